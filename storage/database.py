"""Engines and migrations for SQLite (the embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

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
    """An async engine; SQLite gets WAL, a busy timeout and write-locking transactions."""
    url = async_url(url)
    if is_sqlite(url):
        _prepare_sqlite_dir(url)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _sqlite_pragmas(engine.sync_engine)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_pragmas(sync_engine: Any) -> None:
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction starts (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: a read-then-write transaction can then never
        # fail half-way with "database is locked", and compare-and-set updates stay serial.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


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
