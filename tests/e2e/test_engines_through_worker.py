"""fal, Replicate, Luma and ComfyUI, each through the real worker, store and outbox.

As in ``test_providers_through_worker.py``: providers are built by
``paid_providers(Settings)`` as in production, so the official SDKs (fal-client,
replicate, lumaai) and the ComfyUI adapter do the talking; only keys and base URLs
point at the local fakes, which run in the test's event loop.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from adapters.web.app import create_web_app
from adapters.web.server import WebServer
from bot.domain import RenderStatus, RequestStatus
from tests.e2e.engine_fakes import ENGINES, EngineFake, engine_settings, running_engine
from tests.e2e.paid_fakes import providers_for
from tests.e2e.test_providers_through_worker import audit_of, spawn_settings_worker
from tests.fakes.loopback import unused_port
from tests.fakes.media import decode_to_end
from tests.support.harness import Harness, make_harness
from tests.support.waiting import wait_for

R = RequestStatus
MODERATED = ("fal", "replicate", "luma")  # ComfyUI runs whatever it is given: no refusals
RATE_LIMITED = ("fal", "replicate", "luma")  # a local ComfyUI has no rate limit


@pytest.fixture(params=ENGINES)
async def eng(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EngineFake]:
    async with running_engine(request.param, tmp_path) as fake:
        yield fake


async def harness_for(tmp_path: Path, db_url: str, *fakes: EngineFake, **extra: object) -> Harness:
    overrides: dict[str, Any] = {**engine_settings(*fakes), **extra}
    return await make_harness(
        tmp_path, db_url, providers=providers_for(tmp_path, db_url, overrides), **overrides
    )


async def test_a_render_goes_end_to_end_and_the_clip_decodes_to_its_last_frame(
    eng: EngineFake, tmp_path: Path, db_url: str
) -> None:
    h = await harness_for(tmp_path, db_url, eng)
    try:
        request = await h.ask(eng.ask())
        assert request is not None and request.status == R.QUEUED
        await h.run_until(request.id, [R.IN_REVIEW])
        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.status == RenderStatus.READY and render.provider == eng.name
        assert eng.jobs() == [render.remote_id] and eng.submit_calls() == 1
        assert render.cost_actual == pytest.approx(eng.expected_cost(eng.seconds))
        [clip] = h.chat.of_kind("clip")
        assert clip.clip is not None
        facts = decode_to_end(clip.clip)
        assert facts.frames > 0 and facts.seconds == pytest.approx(eng.seconds, abs=0.5)
    finally:
        await h.close()


@pytest.mark.parametrize("name", RATE_LIMITED)
async def test_a_rate_limited_submit_waits_out_retry_after_then_renders_once(
    name: str, tmp_path: Path, sqlite_url: str
) -> None:
    async with running_engine(name, tmp_path) as eng:
        eng.rate_limit_next(retry_after=1)
        h = await harness_for(tmp_path, sqlite_url, eng)
        try:
            request = await h.ask(eng.ask())
            assert request is not None
            await h.run_until(request.id, [R.IN_REVIEW])
            [render] = await h.app.store.renders.renders_for(request.id)
            assert render.status == RenderStatus.READY and render.attempts == 1
            assert eng.submit_calls() == 2 and eng.jobs() == [render.remote_id]
            [retry] = await audit_of(h, "render.retry")
            assert retry["delay"] == pytest.approx(1.0)  # the provider's hint, not our shorter back-off
        finally:
            await h.close()


@pytest.mark.parametrize("when", ["at_submit", "while_rendering"])
@pytest.mark.parametrize("name", MODERATED)
async def test_a_refusal_fails_the_request_with_the_providers_reason_and_no_retry(
    name: str, when: str, tmp_path: Path, sqlite_url: str
) -> None:
    async with running_engine(name, tmp_path) as eng:
        (eng.refuse_at_submit if when == "at_submit" else eng.refuse_while_rendering)()
        h = await harness_for(tmp_path, sqlite_url, eng)
        try:
            request = await h.ask(eng.ask())
            assert request is not None
            failed = await h.run_until(request.id, [R.FAILED])
            [render] = await h.app.store.renders.renders_for(request.id)
            assert render.attempts == 0 and await audit_of(h, "render.retry") == []
            assert render.cost_actual == 0.0 and eng.submit_calls() == 1
            [event] = await audit_of(h, "render.failed")
            assert event["refused"] is True
            assert failed.failure_reason and eng.refusal in failed.failure_reason
            assert f"{name} refused the prompt" in h.chat.of_kind("post")[-1].message.body
        finally:
            await h.close()


@pytest.mark.slow
async def test_kill_9_mid_render_then_a_fresh_worker_resumes_the_same_remote_job(
    eng: EngineFake, tmp_path: Path, sqlite_url: str
) -> None:
    eng.hold()
    h = await harness_for(tmp_path, sqlite_url, eng, lease_seconds=1.0)
    try:
        request = await h.ask(eng.ask())
        assert request is not None and request.status == R.QUEUED
        victim = await spawn_settings_worker(
            tmp_path, sqlite_url, "victim", {**eng.env(), "CLIPDESK_PROVIDER": eng.name}
        )

        async def polled_by_victim() -> object:
            [render] = await h.app.store.renders.renders_for(request.id)
            jobs = eng.jobs()
            if render.remote_id and jobs and eng.polls(jobs[0]) >= 1:
                return render
            if victim.returncode is not None:
                raise AssertionError((tmp_path / "victim.log").read_text())
            return None

        started = await wait_for(polled_by_victim)
        remote_id = started.remote_id
        victim.send_signal(signal.SIGKILL)
        assert await victim.wait() == -signal.SIGKILL
        eng.release()
        await h.run_until(request.id, [R.IN_REVIEW])
        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.status == RenderStatus.READY and render.remote_id == remote_id
        assert eng.jobs() == [remote_id] and eng.submit_calls() == 1  # paid for once
        [clip] = h.chat.of_kind("clip")
        assert clip.clip is not None and decode_to_end(clip.clip).frames > 0
    finally:
        await h.close()


FAILOVER = [("fal", "luma", 5), ("luma", "comfyui", 5), ("comfyui", "fal", 5), ("replicate", "fal", 10)]


@pytest.mark.parametrize(("down", "backup", "seconds"), FAILOVER, ids=[f"{a}-to-{b}" for a, b, _ in FAILOVER])
async def test_a_provider_out_of_capacity_hands_the_render_to_the_next_one(
    tmp_path: Path, sqlite_url: str, down: str, backup: str, seconds: int
) -> None:
    async with AsyncExitStack() as stack:
        fakes = {n: await stack.enter_async_context(running_engine(n, tmp_path)) for n in (down, backup)}
        fakes[down].go_down()
        order = f"{down},{backup}"
        h = await harness_for(tmp_path, sqlite_url, fakes[down], fakes[backup], provider_order=order)
        try:
            request = await h.ask(f"a {seconds}s clip of a lighthouse at dusk")
            assert request is not None
            await h.run_until(request.id, [R.IN_REVIEW])
            [render] = await h.app.store.renders.renders_for(request.id)
            assert render.provider == backup and fakes[backup].jobs() == [render.remote_id]
            assert fakes[down].jobs() == []
            assert any(f"moving this render to {backup}" in t for t in h.chat.texts())
            [clip] = h.chat.of_kind("clip")
            assert clip.clip is not None and decode_to_end(clip.clip).frames > 0
        finally:
            await h.close()


async def test_the_push_of_a_finished_job_ends_the_workers_wait_early(
    eng: EngineFake, tmp_path: Path, sqlite_url: str
) -> None:
    # The worker would next poll in a minute; only the webhook (or ComfyUI's websocket) can end it sooner.
    port = unused_port()
    eng.hold()
    h = await harness_for(
        tmp_path,
        sqlite_url,
        eng,
        poll_start_seconds=60.0,
        poll_cap_seconds=60.0,
        **eng.webhook_settings(f"http://127.0.0.1:{port}"),
    )
    pokes: list[bool] = []
    poke = h.app.worker.poke

    def recording(remote_id: str) -> bool:
        pokes.append(poke(remote_id))
        return pokes[-1]

    h.app.worker.poke = recording  # type: ignore[method-assign]
    server = WebServer(create_web_app(h.app), "127.0.0.1", port)  # the webhook routes, ComfyUI's pokes
    await server.start()
    try:
        request = await h.ask(eng.ask())
        assert request is not None
        await h.app.worker.claim_once()

        async def polled_once() -> bool:
            jobs = eng.jobs()
            return bool(jobs) and eng.polls(jobs[0]) >= 1

        await wait_for(polled_once)
        [job] = eng.jobs()
        assert await eng.push(job) == 200
        await asyncio.wait_for(h.run_until(request.id, [R.IN_REVIEW]), timeout=30)
        assert True in pokes and len(h.chat.of_kind("clip")) == 1
    finally:
        await server.stop()
        await h.close()
