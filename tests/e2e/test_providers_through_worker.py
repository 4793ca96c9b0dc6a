"""OpenAI videos, Veo and Runway, each through the real worker, store and outbox.

The providers are built by ``paid_providers(Settings)`` exactly as in
production, so the official SDK clients (openai, google-genai, runwayml) do
the talking; only their base URLs and keys point at the local fakes, which run
in the test's event loop.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.backoff import poll_interval
from bot.domain import RenderStatus, RequestStatus
from bot.messages import Action
from tests.e2e.paid_fakes import (
    CREDENTIAL_ENV,
    PROVIDERS,
    PaidFake,
    providers_for,
    running,
    running_all,
    settings_for,
)
from tests.fakes.media import decode_to_end
from tests.support.harness import Harness, make_harness
from tests.support.waiting import wait_for

R = RequestStatus
ROOT = Path(__file__).resolve().parents[2]
ASK = "a 4s product demo of a steel water bottle on a kitchen counter"

pytestmark = pytest.mark.filterwarnings(
    # google-genai's own aiohttp session subclass; nothing clipdesk controls.
    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
)


@pytest.fixture(params=PROVIDERS)
async def paid(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[PaidFake]:
    async with running(request.param, tmp_path) as fake:
        yield fake


async def harness_for(tmp_path: Path, db_url: str, *fakes: PaidFake, **extra: object) -> Harness:
    overrides: dict[str, Any] = {**settings_for(*fakes), **extra}
    return await make_harness(
        tmp_path, db_url, providers=providers_for(tmp_path, db_url, overrides), **overrides
    )


async def audit_of(h: Harness, kind: str) -> list[dict[str, object]]:
    return [e.data for e in await h.app.store.audit.audit_events() if e.kind == kind]


def record_poll_waits(h: Harness) -> list[float]:
    """Record each wait between status polls (the worker sleeps only there) and still sleep it."""
    waits: list[float] = []
    sleep = h.app.worker.ctx.sleep

    async def recording(seconds: float) -> None:
        waits.append(seconds)
        await sleep(seconds)

    h.app.worker.ctx.sleep = recording
    return waits


# ---------------------------------------------------------------------- (a) happy path


async def test_a_render_goes_end_to_end_through_the_real_sdk_worker_and_outbox(
    paid: PaidFake, tmp_path: Path, db_url: str
) -> None:
    h = await harness_for(tmp_path, db_url, paid)
    waits = record_poll_waits(h)
    try:
        request = await h.ask(ASK)
        assert request is not None and request.status == R.QUEUED  # within the auto-render limit
        done = await h.run_until(request.id, [R.IN_REVIEW])

        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.status == RenderStatus.READY and render.provider == paid.name
        assert paid.jobs() == [render.remote_id]  # one job at the provider, and it is ours
        assert render.attempts == 0
        assert render.cost_actual == pytest.approx(paid.expected_cost(4))
        [ready] = await audit_of(h, "render.ready")
        assert ready["cost_actual"] == pytest.approx(paid.expected_cost(4))

        [clip] = h.chat.of_kind("clip")
        assert clip.target.thread == done.target.thread
        assert clip.clip is not None and decode_to_end(clip.clip).frames > 0
        assert f"{paid.name} · " in " ".join(f.value for f in clip.message.fields)
        assert Action.APPROVE in [b.action for b in clip.message.buttons]

        # The worker follows the provider's polling hint (capped at 3x its own poll cap, so a
        # hint meant for minutes cannot stall it) and backs off on its own when there is none.
        assert waits, "the worker never waited between polls"
        assert waits == [
            poll_interval(n, start=0.01, cap=0.05, hint=paid.hint) for n in range(1, len(waits) + 1)
        ]
        assert max(waits) <= 3 * 0.05 + 1e-9
    finally:
        await h.close()


# ---------------------------------------------------------------------- (b) 429 then success


async def test_a_rate_limited_submit_waits_out_retry_after_then_renders_once(
    paid: PaidFake, tmp_path: Path, sqlite_url: str
) -> None:
    paid.rate_limit_next(retry_after=0.25)
    h = await harness_for(tmp_path, sqlite_url, paid)
    try:
        request = await h.ask(ASK)
        assert request is not None
        await h.run_until(request.id, [R.IN_REVIEW])

        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.status == RenderStatus.READY and render.attempts == 1
        assert paid.submit_calls() == 2  # the 429, then the accepted create
        assert paid.jobs() == [render.remote_id]
        [retry] = await audit_of(h, "render.retry")
        assert retry["attempt"] == 1 and retry["provider"] == paid.name
        assert any(word in str(retry["reason"]).lower() for word in ("rate limit", "429"))
        assert retry["delay"] == pytest.approx(0.25)  # the provider's Retry-After, not our shorter backoff
        assert len(h.chat.of_kind("clip")) == 1
    finally:
        await h.close()


# ---------------------------------------------------------------------- (c) refusal


@pytest.mark.parametrize("when", ["at_submit", "while_rendering"])
async def test_a_content_refusal_fails_the_request_with_the_providers_reason_and_no_retry(
    paid: PaidFake, tmp_path: Path, sqlite_url: str, when: str
) -> None:
    if when == "at_submit":
        paid.refuse_at_submit()
    else:
        paid.refuse_while_rendering()
    reason = paid.refusal if when == "at_submit" else paid.render_refusal
    h = await harness_for(tmp_path, sqlite_url, paid)
    try:
        request = await h.ask(ASK)
        assert request is not None
        failed = await h.run_until(request.id, [R.FAILED])

        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.status == RenderStatus.FAILED
        assert render.attempts == 0 and await audit_of(h, "render.retry") == []
        assert render.cost_actual == 0.0
        assert paid.submit_calls() == 1
        assert len(paid.jobs()) == (0 if when == "at_submit" else 1)
        [event] = await audit_of(h, "render.failed")
        assert event["refused"] is True
        assert failed.failure_reason and reason in failed.failure_reason

        message = h.chat.of_kind("post")[-1].message
        assert message.text.startswith("❌ The render failed")
        assert f"{paid.name} refused the prompt" in message.body and reason in message.body
        assert h.chat.of_kind("clip") == []
    finally:
        await h.close()


# ---------------------------------------------------------------------- (d) kill -9, resume


async def spawn_settings_worker(
    tmp_path: Path, db_url: str, owner: str, env: dict[str, str]
) -> asyncio.subprocess.Process:
    """A worker process whose providers come from the environment, as `clipdesk worker` builds them."""
    clean = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_ENV and not k.startswith("CLIPDESK_")}
    log = (tmp_path / f"{owner}.log").open("wb")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.worker_proc",
            "--providers",
            "settings",
            "--db",
            db_url,
            "--data",
            str(tmp_path / f"data_{owner}"),
            "--owner",
            owner,
            "--lease",
            "0.5",
            cwd=ROOT,
            env={**clean, **env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )
    finally:
        log.close()


@pytest.mark.slow
async def test_kill_9_mid_render_then_a_fresh_worker_resumes_the_same_remote_job(
    paid: PaidFake, tmp_path: Path, sqlite_url: str
) -> None:
    # SQLite only, to stay fast: tests/e2e/test_crash_and_replicas.py kills workers on PostgreSQL too.
    paid.hold()
    h = await harness_for(tmp_path, sqlite_url, paid, lease_seconds=1.0)
    try:
        request = await h.ask(ASK)
        assert request is not None and request.status == R.QUEUED
        victim = await spawn_settings_worker(
            tmp_path, sqlite_url, "victim", {**paid.env(), "CLIPDESK_PROVIDER": paid.name}
        )

        async def polled_by_victim() -> object:
            [render] = await h.app.store.renders.renders_for(request.id)
            jobs = paid.jobs()
            if render.remote_id and jobs and paid.polls(jobs[0]) >= 1:
                return render
            if victim.returncode is not None:
                raise AssertionError((tmp_path / "victim.log").read_text())
            return None

        started = await wait_for(polled_by_victim)
        assert started.lease_owner == "victim"
        remote_id = started.remote_id
        victim.send_signal(signal.SIGKILL)
        assert await victim.wait() == -signal.SIGKILL
        polls_before = paid.polls(remote_id)

        paid.release()
        done = await h.run_until(request.id, [R.IN_REVIEW])

        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.status == RenderStatus.READY and done.status == R.IN_REVIEW
        assert render.remote_id == remote_id
        assert paid.jobs() == [remote_id] and paid.submit_calls() == 1  # paid for once
        assert paid.polls(remote_id) > polls_before  # the fresh worker polled the same job
        assert len(await audit_of(h, "render.submitted")) == 1
        [clip] = h.chat.of_kind("clip")
        assert clip.clip is not None and decode_to_end(clip.clip).frames > 0
    finally:
        await h.close()


# ---------------------------------------------------------------------- (e) failover

FAILOVER = [("openai", "veo"), ("veo", "runway"), ("runway", "openai")]


@pytest.mark.parametrize("outage", ["503", "closed"])
@pytest.mark.parametrize(("down", "backup"), FAILOVER, ids=[f"{a}-to-{b}" for a, b in FAILOVER])
async def test_a_down_provider_hands_the_render_to_the_next_in_the_order_and_the_thread_says_so(
    tmp_path: Path, sqlite_url: str, down: str, backup: str, outage: str
) -> None:
    async with running_all([down, backup], tmp_path) as fakes:
        if outage == "503":
            fakes[down].go_down()
        else:
            await fakes[down].close()
        h = await harness_for(
            tmp_path, sqlite_url, fakes[down], fakes[backup], provider_order=f"{down},{backup}"
        )
        try:
            request = await h.ask(ASK)
            assert request is not None
            await h.run_until(request.id, [R.IN_REVIEW])

            [render] = await h.app.store.renders.renders_for(request.id)
            assert render.status == RenderStatus.READY
            assert render.provider == backup and fakes[backup].jobs() == [render.remote_id]
            assert fakes[down].jobs() == []
            assert render.cost_actual == pytest.approx(fakes[backup].expected_cost(4))
            notes = [t for t in h.chat.texts() if t.startswith("↪️")]
            assert len(notes) == 1 and f"{down} is unavailable" in notes[0]
            assert f"moving this render to {backup}" in notes[0]
            [moved] = await audit_of(h, "render.failover")
            assert moved["provider"] == backup
            [clip] = h.chat.of_kind("clip")
            assert clip.clip is not None and decode_to_end(clip.clip).frames > 0
        finally:
            await h.close()


async def test_failover_skips_a_provider_that_cannot_make_the_clip(tmp_path: Path, sqlite_url: str) -> None:
    # A 6 s clip: Runway (down) and Veo make 6 s clips, OpenAI's Sora only 4, 8 or 12.
    async with running_all(["runway", "openai", "veo"], tmp_path) as fakes:
        fakes["runway"].go_down()
        h = await harness_for(
            tmp_path,
            sqlite_url,
            fakes["runway"],
            fakes["openai"],
            fakes["veo"],
            provider_order="runway,openai,veo",
        )
        try:
            request = await h.ask("a 6s clip of a lighthouse at dusk")
            assert request is not None
            await h.run_until(request.id, [R.IN_REVIEW])
            [render] = await h.app.store.renders.renders_for(request.id)
            assert render.provider == "veo" and render.seconds == 6
            assert fakes["openai"].api_calls() == 0 and fakes["runway"].jobs() == []
            assert any("moving this render to veo" in t for t in h.chat.texts())
        finally:
            await h.close()


async def test_a_pinned_provider_that_is_down_is_not_swapped(tmp_path: Path, sqlite_url: str) -> None:
    async with running_all(["veo", "runway"], tmp_path) as fakes:
        fakes["veo"].go_down()
        h = await harness_for(
            tmp_path, sqlite_url, fakes["runway"], fakes["veo"], provider_order="runway,veo", max_attempts=2
        )
        try:
            request = await h.ask(f"{ASK} --provider veo")
            assert request is not None
            await h.run_until(request.id, [R.FAILED])
            [render] = await h.app.store.renders.renders_for(request.id)
            assert render.provider == "veo" and fakes["runway"].api_calls() == 0
            assert not any(t.startswith("↪️") for t in h.chat.texts())
        finally:
            await h.close()
