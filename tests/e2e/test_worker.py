"""The worker's handling of provider trouble: retry, refuse, fail over, give up, re-post."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlmodel import col

from bot.backoff import poll_interval
from bot.domain import RenderStatus, ReplyTarget, RequestStatus, utcnow
from bot.event_kinds import EventKind
from bot.messages import Action
from bot.ports import RemoteState, RemoteStatus
from bot.retry import backoff_delay
from storage.tables import OutboxRow, RenderRow
from tests.support.harness import REQUESTER, make_harness
from tests.support.providers import FileJobProvider
from tests.support.seed import seed_queued
from tests.unit.test_ask_batch import CountingUnits

R = RequestStatus


async def test_rate_limited_submit_is_retried_with_backoff_then_succeeds(tmp_path: Path, db_url: str) -> None:
    provider = FileJobProvider(tmp_path / "jobs", fail_submits=2)
    h = await make_harness(tmp_path, db_url, providers={"filejob": provider})
    try:
        request = await h.ask("a 4s clip of rain on a window")
        assert request is not None
        await h.run_until(request.id, [R.IN_REVIEW])
        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.status == RenderStatus.READY and render.attempts == 2
        assert len(provider.submits()) == 1
        retries = [e for e in await h.app.store.audit.audit_events() if e.kind == "render.retry"]
        assert len(retries) == 2 and all(e.data["delay"] > 0 for e in retries)
    finally:
        await h.close()


async def test_policy_refusal_is_permanent_and_shown_with_the_reason(tmp_path: Path, db_url: str) -> None:
    provider = FileJobProvider(tmp_path / "jobs", refuse=True)
    h = await make_harness(tmp_path, db_url, providers={"filejob": provider})
    try:
        request = await h.ask("a 4s clip of a storm")
        assert request is not None
        failed = await h.run_until(request.id, [R.FAILED])
        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.attempts == 0 and render.cost_actual == 0.0  # no retry, nothing charged
        message = h.chat.of_kind("post")[-1].message
        assert "failed — retry?" in message.text and "usage policy" in message.body
        assert [b.action for b in message.buttons] == [Action.RETRY, Action.EDIT, Action.CANCEL]
        assert failed.failure_reason and "refused" in failed.failure_reason
    finally:
        await h.close()


async def test_transient_errors_give_up_after_max_attempts_with_a_retry_button(
    tmp_path: Path, db_url: str
) -> None:
    provider = FileJobProvider(tmp_path / "jobs", fail_submits=99)
    h = await make_harness(tmp_path, db_url, providers={"filejob": provider}, max_attempts=3)
    try:
        request = await h.ask("a 4s clip of a storm")
        assert request is not None
        await h.run_until(request.id, [R.FAILED])
        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.status == RenderStatus.FAILED and "gave up after 3 tries" in (
            render.failure_reason or ""
        )
        # Retry makes a new render of the same brief once the provider is back.
        (tmp_path / "jobs" / "failures").write_text("0")
        provider.fail_submits = 0
        await h.press(Action.RETRY, request, REQUESTER)
        await h.run_until(request.id, [R.IN_REVIEW])
        assert len(await h.app.store.renders.renders_for(request.id)) == 2
    finally:
        await h.close()


async def test_a_down_provider_fails_over_to_the_next_and_the_thread_is_told(
    tmp_path: Path, db_url: str
) -> None:
    down = FileJobProvider(tmp_path / "down", name="down", down=True)
    backup = FileJobProvider(tmp_path / "backup", name="backup")
    h = await make_harness(
        tmp_path,
        db_url,
        providers={"down": down, "backup": backup},
        provider="down",
        provider_order="down,backup",
    )
    try:
        request = await h.ask("a 4s clip of a harbour")
        assert request is not None
        await h.run_until(request.id, [R.IN_REVIEW])
        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.provider == "backup" and len(backup.submits()) == 1
        assert any("moving this render to backup" in t for t in h.chat.texts())
    finally:
        await h.close()


async def test_a_pinned_provider_never_fails_over(tmp_path: Path, db_url: str) -> None:
    down = FileJobProvider(tmp_path / "down", name="down", down=True)
    backup = FileJobProvider(tmp_path / "backup", name="backup")
    h = await make_harness(
        tmp_path, db_url, providers={"down": down, "backup": backup}, provider="backup", max_attempts=2
    )
    try:
        request = await h.ask("a 4s clip of a harbour --provider down")
        assert request is not None
        await h.run_until(request.id, [R.FAILED])
        assert backup.submits() == []
    finally:
        await h.close()


async def test_a_failed_upload_is_retried_and_the_clip_posted_once(tmp_path: Path, db_url: str) -> None:
    h = await make_harness(tmp_path, db_url)
    h.chat.fail_uploads = 1
    try:
        request = await h.ask("a 4s clip of a kite")
        assert request is not None
        # Settling waits out the failed upload's back-off: the second try posts the clip.
        await h.run_until(request.id, [R.IN_REVIEW])
        assert len(h.chat.of_kind("clip")) == 1
        async with h.app.store.engine.connect() as conn:
            attempts = (
                await conn.execute(
                    select(col(OutboxRow.attempts)).where(
                        col(OutboxRow.kind) == "render.ready", col(OutboxRow.sink) == "thread"
                    )
                )
            ).scalar_one()
        assert attempts == 1
        await h.app.deliverer.drain()
        assert len(h.chat.of_kind("clip")) == 1
    finally:
        await h.close()


async def test_cancel_before_rendering_stops_the_render(tmp_path: Path, db_url: str) -> None:
    provider = FileJobProvider(tmp_path / "jobs")
    h = await make_harness(tmp_path, db_url, providers={"filejob": provider})
    try:
        request = await h.ask("a 4s clip of a kite")
        assert request is not None and request.status == R.QUEUED
        await h.press(Action.CANCEL, request, REQUESTER)
        await h.app.worker.claim_once()
        await h.app.worker.drain()
        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.status == RenderStatus.CANCELLED and provider.submits() == []
    finally:
        await h.close()


def test_backoff_grows_with_jitter_and_never_undercuts_retry_after() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, base=2, cap=60, rng=rng) for n in range(1, 8)]
    assert 1 <= delays[0] <= 2 and 30 <= delays[-1] <= 60
    assert all(b >= a / 2 for a, b in itertools.pairwise(delays))
    assert backoff_delay(1, base=2, retry_after=30, rng=rng) == 30
    assert len({round(backoff_delay(3, rng=rng), 6) for _ in range(20)}) > 1  # jitter spreads replicas


def test_polling_backs_off_from_two_to_twenty_seconds_unless_the_provider_hints() -> None:
    assert poll_interval(0) == 2.0 and poll_interval(20) == 20.0
    assert poll_interval(1, hint=5.0) == 5.0  # the hint is a floor …
    assert poll_interval(6, hint=5.0) == 20.0  # … and our own back-off still grows past it
    assert poll_interval(9, hint=100.0) == 60.0  # a wild hint is capped


async def test_failover_never_leaves_the_providers_the_workspace_allows(tmp_path: Path, db_url: str) -> None:
    down = FileJobProvider(tmp_path / "down", name="down", down=True)
    backup = FileJobProvider(tmp_path / "backup", name="backup")
    policy = tmp_path / "clipdesk.toml"
    policy.write_text('[defaults]\nallowed_providers = ["down"]\n')
    h = await make_harness(
        tmp_path,
        db_url,
        providers={"down": down, "backup": backup},
        provider="backup",
        policy_file=policy,
        max_attempts=2,
    )
    try:
        request = await h.ask("a 4s clip of a harbour")
        assert request is not None
        failed = await h.run_until(request.id, [R.FAILED])
        assert backup.submits() == []  # the process knows backup; this workspace does not allow it
        assert failed.failure_reason and "no other provider this workspace allows" in failed.failure_reason
        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.provider == "down" and render.cost_actual == 0.0
        assert "failed — retry?" in h.chat.of_kind("post")[-1].message.text
    finally:
        await h.close()


class GatedProvider(FileJobProvider):
    """Jobs stay running until the test opens the gate."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.gate = asyncio.Event()

    async def status(self, remote_id: str) -> RemoteStatus:
        if not self.gate.is_set():
            return RemoteStatus(RemoteState.RUNNING, 10, poll_after=0.01)
        return await super().status(remote_id)


async def test_a_render_claimed_back_after_its_own_lease_lapsed_is_not_driven_twice(
    tmp_path: Path, db_url: str
) -> None:
    provider = GatedProvider(tmp_path / "jobs")
    h = await make_harness(tmp_path, db_url, providers={"filejob": provider})
    try:
        request = await h.ask("a 4s clip of a lighthouse")
        assert request is not None
        assert await h.app.worker.claim_once() == 1
        deadline = time.monotonic() + 30
        while not provider.submits():
            assert time.monotonic() < deadline, "the render was never submitted"
            await asyncio.sleep(0.01)
        # A stall longer than the lease: the row says the lease lapsed while this worker still drives it.
        # The driver's own writes (a poll's save, the heartbeat) may renew the lease or hold the row's
        # lock (SKIP LOCKED passes it by) at the moment of the claim: lapse it again until claimed.
        while True:
            async with h.app.store.engine.begin() as conn:
                await conn.execute(update(RenderRow).values(lease_expires_at=utcnow() - timedelta(minutes=5)))
            if await h.app.worker.claim_once() == 1:  # it claims its own render back...
                break
            assert time.monotonic() < deadline, "the lapsed lease was never claimed back"
            await asyncio.sleep(0.01)
        drivers = [t for t in asyncio.all_tasks() if t.get_name().startswith("render:") and not t.done()]
        assert len(drivers) == 1  # ...and keeps one driver
        provider.gate.set()
        await h.run_until(request.id, [R.IN_REVIEW])
        assert len(provider.submits()) == 1
        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.status == RenderStatus.READY
        kinds = [e.kind for e in await h.app.store.audit.audit_events() if e.render_id == render.id]
        assert kinds.count(EventKind.RENDER_COMPLETED) == 1 and kinds.count(EventKind.RENDER_READY) == 1
    finally:
        await h.close()


async def test_renders_driven_together_share_their_step_transactions(tmp_path: Path, db_url: str) -> None:
    """Eight renders claimed at once reach each step together and commit it together."""
    h = await make_harness(tmp_path, db_url, worker_concurrency=8, provider_concurrency=8)
    try:
        ids = await seed_queued(h.app.store, 8, target=ReplyTarget("test", "W1", "C1"))
        units = CountingUnits(h.app.store)
        h.app.worker.ctx.uow = units  # every step's transaction goes through the counter
        assert await h.app.worker.claim_once() == 8
        await asyncio.wait_for(h.app.worker.drain(), 30)
        for render_id in ids:
            render = await h.app.store.renders.get_render(render_id)
            assert render is not None and render.status == RenderStatus.READY
        # Five steps a render (intent, submitted, completed, downloaded, ready): 40 transactions
        # one step at a time; together, a handful a step.
        assert units.committed <= 20, units.committed  # 8–9 here; 41 one step at a time
    finally:
        await h.close()
