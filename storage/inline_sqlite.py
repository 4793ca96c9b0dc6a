"""SQLite called in place: the driver SQLAlchemy's aiosqlite dialect drives, without aiosqlite's thread.

SQLite is a library, not a server: a statement is a function call into a local
file, tens of microseconds for the small reads and writes clipdesk makes.
aiosqlite runs each call on a thread of its own and hands the result back
through the event loop, so every statement, ``BEGIN`` and ``COMMIT`` waits for
a turn of the loop. When the loop is busy (200 `/video` commands parsing at
once) a turn takes milliseconds, an ask's write transaction made about seven of
them, and it held the one write lock the whole time: a burst's lone first ask
took 140 ms to write while the other 199 queued behind it. Called in place, a
transaction runs start to end in one go.

What blocking the loop costs is bounded: reads never wait for a lock in WAL mode,
and a write transaction's ``BEGIN IMMEDIATE`` never waits either (busy timeout 0;
:class:`storage.database.SqliteEngine` waits for the lock asynchronously and
tries again). The coroutine methods below complete without suspending, which is
what lets SQLAlchemy's greenlet bridge run them without a loop turn.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any


class InlineCursor:
    """aiosqlite's cursor interface over a :class:`sqlite3.Cursor`, run in place."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *_sizes: Any) -> None:
        return None

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class InlineConnection:
    """aiosqlite's connection interface over a :class:`sqlite3.Connection`, run in place.

    ``_connection`` is the name SQLAlchemy's adapter reads the driver connection by.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection

    @property
    def _live(self) -> sqlite3.Connection:
        if self._connection is None:
            # The phrase SQLAlchemy's aiosqlite dialect reads as "disconnected".
            raise sqlite3.OperationalError("no active connection")
        return self._connection

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._live.cursor())

    @property
    def isolation_level(self) -> str | None:
        return self._live.isolation_level

    async def commit(self) -> None:
        self._live.commit()

    async def rollback(self) -> None:
        self._live.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._live.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def set_busy_timeout(self, seconds: float) -> None:
        """How long a statement waits for another connection's lock (a setting, not a statement
        SQLAlchemy sees or counts)."""
        self._live.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate): there is no thread to stop."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def inline_creator(database: str, *, timeout: float) -> Any:
    """An ``async_creator`` for :func:`sqlalchemy.ext.asyncio.create_async_engine`.

    SQLAlchemy, not the driver, starts transactions (``isolation_level=None``); the
    connection may be closed by the pool from another thread at interpreter exit.
    """

    async def connect() -> InlineConnection:
        return InlineConnection(
            sqlite3.connect(database, timeout=timeout, isolation_level=None, check_same_thread=False)
        )

    return connect
