"""Engines and migrations for SQLite (the embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import weakref
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage.inline_sqlite import InlineConnection, inline_creator

MIGRATIONS = Path(__file__).parent / "migrations"


def async_url(url: str) -> str:
    """Map a plain URL to its asyncio driver: ``sqlite`` → aiosqlite, ``postgresql`` → psycopg."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def sync_url(url: str) -> str:
    """The same database through a blocking driver, for Alembic."""
    parsed = make_url(async_url(url))
    if parsed.drivername == "sqlite+aiosqlite":
        return str(parsed.set(drivername="sqlite+pysqlite"))
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _prepare_sqlite_dir(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and one writer at a time per process.

    No ``pool_pre_ping``: it cost a round trip per transaction on the hot path. A connection the
    server dropped fails its transaction once (callers retry on their tick) and is replaced;
    ``pool_recycle`` retires connections before typical idle timeouts close them.
    """
    url = async_url(url)
    if is_sqlite(url):
        _prepare_sqlite_dir(url)
        # As many connections as PostgreSQL's pool allows at its peak, but all of them kept: an
        # overflow connection is closed when it is given back, and each new one costs a thread and
        # four PRAGMAs (a burst of 200 asks opened and closed thousands).
        database = make_url(url).database or ":memory:"
        sqlite_engine = SqliteEngine(
            create_async_engine(
                url,
                async_creator=inline_creator(database, timeout=SQLITE_BUSY_SECONDS),
                pool_size=pool_size + min(pool_size, 10),
                max_overflow=0,
            ).sync_engine
        )
        _sqlite_pragmas(sqlite_engine.sync_engine)
        return sqlite_engine
    # Past the pool, a connection is opened for one transaction and closed after it (a server
    # process forked and ended each time): the pool is sized for the steady state instead.
    overflow = min(pool_size, 10)
    return create_async_engine(url, pool_size=pool_size, max_overflow=overflow, pool_recycle=1800)


class SqliteEngine(AsyncEngine):
    """SQLite with one writer per process: ``begin()`` waits its turn in-process, then ``BEGIN IMMEDIATE``.

    Every transaction used to take ``BEGIN IMMEDIATE``, reads included, and up to 15 pooled
    connections then spun on SQLite's busy handler (which sleeps and retries): a burst of 200
    asks waited on each other for a p99 of 1.1 s. Now writers (``engine.begin()``) queue on an
    asyncio lock, which hands the lock over the moment it is free, and reads
    (``engine.connect()``) take a plain deferred ``BEGIN``: in WAL mode they never wait for a
    writer. Other processes on the same file still meet at SQLite's own lock, which a writer
    waits for asynchronously (:meth:`_write_locked`): the driver runs on the loop's thread.
    """

    _locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]

    def __init__(self, sync_engine: Any) -> None:
        super().__init__(sync_engine)
        self._locks = weakref.WeakKeyDictionary()
        self._holder: asyncio.Task[Any] | None = None

    def _writer_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        me = asyncio.current_task()
        if me is not None and self._holder is me:
            # On one connection SQLite would wait on itself: say so instead of hanging.
            raise RuntimeError("a write transaction opened inside another one on the same task")
        async with self._writer_lock():  # cancel-safe: a cancelled waiter never keeps the lock
            self._holder = me
            try:
                async with self._write_locked() as conn:
                    yield conn
            finally:
                self._holder = None

    @contextlib.asynccontextmanager
    async def _write_locked(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction holding SQLite's write lock, waited for without blocking the loop.

        ``BEGIN IMMEDIATE`` runs in place with no busy timeout (see :mod:`storage.inline_sqlite`):
        while another process writes it fails at once, before anything was done, and is tried
        again after an asynchronous pause, for as long as the busy timeout would have waited.
        """
        deadline = asyncio.get_running_loop().time() + SQLITE_BUSY_SECONDS
        pause = 0.001
        while True:
            # Not ``async with self.connect()``: its exit closes the connection in a task of its
            # own, a turn of the loop, and one turn took 250 ms while 200 commands were parsing.
            # Closing in place cannot be interrupted: nothing in it waits.
            conn = await self.connect().start()
            try:
                conn.info[_WRITE] = True
                transaction = conn.begin()
                try:
                    await transaction.start(is_ctxmanager=True)
                except OperationalError as exc:
                    if not _locked(exc) or asyncio.get_running_loop().time() > deadline:
                        raise
                else:
                    try:
                        yield conn
                    except BaseException as exc:
                        await transaction.__aexit__(type(exc), exc, exc.__traceback__)
                        raise
                    await transaction.__aexit__(None, None, None)
                    return
            finally:
                # After a failure mid-BEGIN (a cancel, say) the connection is invalidated and
                # touching .info would reconnect outside SQLAlchemy's greenlet, raising
                # MissingGreenlet in place of the original error.
                if not conn.invalidated:
                    conn.info.pop(_WRITE, None)
                await conn.close()
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)


def _locked(exc: OperationalError) -> bool:
    message = str(exc.orig).lower()
    return "locked" in message or "busy" in message


SQLITE_BUSY_SECONDS = 30.0
_WRITE = "clipdesk_write"


def _sqlite_pragmas(sync_engine: Any) -> None:
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the driver, decides when a transaction starts (see _on_begin): the
        # in-place driver connects with isolation_level=None (storage.inline_sqlite.inline_creator).
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A write transaction (engine.begin()) takes the write lock up front with IMMEDIATE: a
        # read-then-write transaction can then never fail half-way with "database is locked", and
        # compare-and-set updates stay serial. Reads take a deferred BEGIN (a WAL snapshot), which
        # never waits for a writer. The write lock is asked for without waiting: the statement
        # runs on the event loop's thread, and SqliteEngine waits for the lock asynchronously.
        if not conn.info.get(_WRITE):
            conn.exec_driver_sql("BEGIN")
            return
        driver: InlineConnection = conn.connection.driver_connection
        driver.set_busy_timeout(0.0)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            driver.set_busy_timeout(SQLITE_BUSY_SECONDS)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


# Any fixed 64-bit number: the PostgreSQL advisory lock every clipdesk process takes to migrate.
MIGRATION_LOCK = 0x636C6970_6465736B  # "clipdesk"


def upgrade(url: str, revision: str = "head") -> list[str]:
    """Apply pending migrations under a lock (blocking; call from a thread inside an event loop).

    Several processes starting at once (replicas, `serve` and `worker`, a migrate job) take
    turns: the first migrates, the others wait for it and then find nothing left to do. On
    PostgreSQL the lock is an advisory lock held by a separate connection; on SQLite a file lock
    next to the database. Returns the revisions this call applied.
    """
    if is_sqlite(url):
        _prepare_sqlite_dir(url)
        with _file_lock(url):
            pending = pending_migrations(url)
            command.upgrade(alembic_config(url), revision)
        return pending
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            try:
                pending = pending_migrations(url)
                command.upgrade(alembic_config(url), revision)
                return pending
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
    finally:
        engine.dispose()


@contextlib.contextmanager
def _file_lock(url: str) -> Iterator[None]:
    database = make_url(url).database
    if not database or database == ":memory:":
        yield
        return
    lock = Path(f"{database}.migrate.lock")
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        yield


def pending_migrations(url: str) -> list[str]:
    """Revisions not yet applied to the database at ``url``."""
    config = alembic_config(url)
    script = ScriptDirectory.from_config(config)
    if is_sqlite(url):
        _prepare_sqlite_dir(url)
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    heads = script.get_revisions("heads")
    pending: list[str] = []
    for head in heads:
        for rev in script.iterate_revisions(head.revision, "base"):
            if rev.revision in current:
                break
            pending.append(rev.revision)
    return pending
