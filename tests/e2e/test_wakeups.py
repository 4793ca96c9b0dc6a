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

from adapters.runtime.scheduler import start_loops
from bot.domain import RenderStatus
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
