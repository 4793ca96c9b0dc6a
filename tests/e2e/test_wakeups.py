"""Work committed by another process wakes an idle worker at once (PostgreSQL LISTEN/NOTIFY, a SQLite
commit watcher).

The tick is an hour: a worker that only polled would never claim within the
test's deadline, so a claim proves the notification woke it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.runtime.container import wake_on
from adapters.runtime.scheduler import start_loops
from bot import render_batch
from bot.domain import RenderStatus
from bot.ports.signals import ALL_TOPICS
from bot.ports.storage import ClaimedWork, OutboxEntry
from bot.render_context import RenderContext
from storage.database import make_engine
from storage.notify import PgListener, SqliteWatcher, parse_topics
from storage.repository import SqlStore
from tests.support.harness import make_harness
from tests.support.seed import seed_queued
from tests.support.waiting import wait_for


async def test_a_render_queued_by_another_process_wakes_an_idle_worker(tmp_path: Path, db_url: str) -> None:
    h = await make_harness(tmp_path, db_url, tick_seconds=3600)
    loops = start_loops(h.app)
    other = SqlStore(make_engine(db_url))  # "another process": its own engine, no listeners
    try:
        signals = h.app.signals
        assert isinstance(signals, PgListener | SqliteWatcher)
        await asyncio.wait_for(signals.connected.wait(), 10)
        # The first pass after connecting finds nothing: the worker is idle, waiting on its tick.
        await asyncio.sleep(0.2)
        [render_id] = await seed_queued(other, 1)

        async def finished() -> bool:
            render = await h.app.store.renders.get_render(render_id)
            return render is not None and render.status == RenderStatus.READY

        await wait_for(finished, seconds=30)
    finally:
        await loops.stop()
        await other.close()
        await h.close()


@pytest.mark.postgres
async def test_the_listener_reconnects_and_wakes_everyone_after_a_lost_connection(
    postgres_url: str,
) -> None:
    listener = PgListener(postgres_url, retry_cap=0.2)
    woken: list[frozenset[str]] = []
    task = asyncio.create_task(listener.listen(woken.append))
    other = SqlStore(make_engine(postgres_url))
    try:
        await asyncio.wait_for(listener.connected.wait(), 10)
        assert woken == [frozenset({"renders", "outbox"})]  # the catch-up wake after connecting
        async with other.engine.begin() as conn:
            # Kill the listening backend as a failover or an idle-timeout would.
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid() AND datname = current_database()"
                )
            )

        async def woken_again() -> bool:
            return len(woken) >= 2 and listener.connected.is_set()

        await wait_for(woken_again, seconds=20)
        before = len(woken)
        await seed_queued(other, 1)

        async def notified() -> bool:
            return frozenset({"renders"}) in woken[before:]

        await wait_for(notified, seconds=20)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await other.close()


def test_topics_parse_from_the_payload() -> None:
    assert parse_topics("outbox,renders") == frozenset({"outbox", "renders"})
    assert parse_topics("") == frozenset({"outbox", "renders"})


async def test_the_sqlite_watcher_wakes_on_another_connections_commit_only(sqlite_url: str) -> None:
    from sqlalchemy.engine import make_url

    watcher = SqliteWatcher(str(make_url(sqlite_url).database), interval=0.001)
    woken: list[frozenset[str]] = []
    other = SqlStore(make_engine(sqlite_url))
    async with other.engine.connect() as conn:  # the first connection switches the file to WAL
        await conn.execute(text("SELECT 1"))
    task = asyncio.create_task(watcher.listen(woken.append))
    try:
        await asyncio.wait_for(watcher.connected.wait(), 10)
        await asyncio.sleep(0.05)
        assert woken == [frozenset({"renders", "outbox"})]
        async with other.engine.connect() as conn:  # a read is not a commit: nobody is woken
            await conn.execute(text("SELECT count(*) FROM renders"))
        await asyncio.sleep(0.05)
        assert len(woken) == 1
        await seed_queued(other, 1)

        async def woken_by_commit() -> bool:
            return len(woken) >= 2

        await wait_for(woken_by_commit, seconds=10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await other.close()


async def test_a_wake_for_everything_starts_the_render_claim_before_the_delivery_claims(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's watcher cannot tell what another process committed, so it wakes the worker and every
    delivery lane at once. The worker's claim goes first: behind the lanes' claims, on SQLite's one
    writer, an idle worker took a third longer to pick up a render."""
    h = await make_harness(tmp_path, sqlite_url, tick_seconds=3600)
    started: list[str] = []
    claim_renders = render_batch.claim

    async def render_claim(ctx: RenderContext, limit: int) -> list[ClaimedWork]:
        started.append("renders")
        return await claim_renders(ctx, limit)

    claim_entries = h.app.deliverer._claim

    async def delivery_claim(sink: str, limit: int) -> list[OutboxEntry]:
        started.append(f"outbox:{sink}")
        return await claim_entries(sink, limit)

    monkeypatch.setattr("bot.worker.claim", render_claim)  # as the worker imported it
    monkeypatch.setattr(h.app.deliverer, "_claim", delivery_claim)
    lanes = [
        asyncio.create_task(h.app.worker.run(tick=3600)),
        asyncio.create_task(h.app.deliverer.run(tick=3600)),
    ]
    try:
        sinks = len(h.app.deliverer.sinks)

        async def all_idle() -> bool:  # each loop claimed once at start and found nothing
            return started.count("renders") == 1 and len(started) == 1 + sinks

        await wait_for(all_idle)
        started.clear()
        wake_on(ALL_TOPICS, h.app.worker, h.app.deliverer)

        async def all_woken() -> bool:
            return len(started) == 1 + sinks

        await wait_for(all_woken)
        assert started[0] == "renders", started
    finally:
        for lane in lanes:
            lane.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
        await h.close()
