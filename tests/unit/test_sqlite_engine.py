"""SQLite called in place: a write transaction takes no turn of the event loop, and waits for
another connection's write lock without blocking the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

import storage.database
from storage.database import make_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def other_writer(tmp_path: Path) -> Iterator[threading.Event]:
    """Another connection (as another process would) holding the write lock until the event is set."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (1)")
        holding.set()
        release.wait(30)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert holding.wait(10)
    yield release
    release.set()
    thread.join(10)


async def test_a_write_transaction_runs_start_to_end_without_a_turn_of_the_loop(engine: AsyncEngine) -> None:
    # While 200 commands parse, one turn of the loop took 250 ms: a write that waits for turns
    # holds the one write lock that long. Anything scheduled before the write must still wait.
    ran: list[str] = []
    asyncio.get_running_loop().call_soon(ran.append, "a turn")
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (2)"))
        await conn.execute(text("SELECT count(*) FROM t"))
    assert ran == []
    await asyncio.sleep(0)
    assert ran == ["a turn"]
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT x FROM t"))).scalars().all() == [2]


async def test_a_writer_waits_for_another_connections_lock_while_the_loop_runs_on(
    engine: AsyncEngine, other_writer: threading.Event
) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticker = asyncio.create_task(tick())
    asyncio.get_running_loop().call_later(0.2, other_writer.set)
    try:
        async with asyncio.timeout(20):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))
    finally:
        ticker.cancel()
    assert ticks >= 5  # the loop kept running while the lock was held elsewhere (about 40 ticks)
    async with engine.connect() as conn:
        assert sorted((await conn.execute(text("SELECT x FROM t"))).scalars().all()) == [1, 2]


async def test_a_lock_never_freed_fails_the_write_after_the_busy_timeout(
    engine: AsyncEngine, other_writer: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.database, "SQLITE_BUSY_SECONDS", 0.3)
    with pytest.raises(OperationalError, match="locked"):
        async with asyncio.timeout(20):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))
    other_writer.set()
    # The failed tries left nothing behind: the pool's connections still write.
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (3)"))
    async with engine.connect() as conn:
        assert sorted((await conn.execute(text("SELECT x FROM t"))).scalars().all()) == [1, 3]


async def test_a_failed_write_rolls_back_and_its_connection_writes_again(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="refused"):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (9)"))
            raise ValueError("refused")
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (4)"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT x FROM t"))).scalars().all() == [4]
