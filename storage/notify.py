"""Cross-process wake-ups on PostgreSQL: ``LISTEN`` for the ``NOTIFY`` a work-queuing transaction sends.

Triggers on ``renders`` and ``outbox`` (migration 0006) send ``pg_notify('clipdesk',
'renders')`` or ``pg_notify('clipdesk', 'outbox:<sink>:<route>')`` inside every
transaction that queues a render, gives one back or writes an outbox entry, so
the notification is delivered when (and only if) the work is committed. Each
``serve`` and ``worker`` process keeps one extra autocommit psycopg connection
in ``LISTEN clipdesk`` and wakes its worker and deliverer on each notification.
A lost connection is reopened with back-off; after every (re)connect everyone is
woken once, because notifications sent meanwhile are gone. The tick stays as
the safety net.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.engine import make_url

from bot.ports.signals import ALL_TOPICS, Topics

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "clipdesk"


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://…``) as a libpq connection string."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgListener:
    """:class:`bot.ports.signals.WorkSignals` on PostgreSQL ``LISTEN``/``NOTIFY``."""

    def __init__(self, url: str, *, channel: str = NOTIFY_CHANNEL, retry_cap: float = 10.0) -> None:
        self.conninfo = libpq_url(url)
        self.channel = channel
        self.retry_cap = retry_cap
        self.connected = asyncio.Event()  # set while LISTENing (tests wait on it)

    async def listen(self, wake: Callable[[Topics], None]) -> None:
        import psycopg  # the postgres extra; SQLite-only installs never get here

        delay = 0.1
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
                    await conn.execute(f'LISTEN "{self.channel}"')
                    self.connected.set()
                    delay = 0.1
                    _safe_wake(wake, ALL_TOPICS)  # whatever was signalled while we were away
                    async for note in conn.notifies():
                        _safe_wake(wake, parse_topics(note.payload))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected.clear()
                log.warning("LISTEN %s lost (%s); reconnecting in %.1f s", self.channel, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_cap)


def parse_topics(payload: str) -> Topics:
    topics = frozenset(t for t in payload.split(",") if t)
    return topics or ALL_TOPICS


def _safe_wake(wake: Callable[[Topics], None], topics: Topics) -> None:
    try:
        wake(topics)
    except Exception:
        log.exception("waking on %s failed", sorted(topics))


class SqliteWatcher:
    """:class:`bot.ports.signals.WorkSignals` on SQLite: wake when another connection commits.

    SQLite has no ``NOTIFY``, but ``PRAGMA data_version`` changes whenever a
    connection other than the asking one commits to the file, and reading it
    costs microseconds (no I/O in WAL mode). Polling it every ``interval``
    lets a ``worker`` process pick up a render that ``serve`` queued in
    milliseconds instead of at its next tick. It cannot tell what changed, nor
    which process committed (this one's own pooled connections count too), so it
    wakes both the worker and the deliverer, at most once per ``cooldown``: an
    idle process wakes within ``interval``, a busy one is not spun by its own
    commits.
    """

    def __init__(self, path: str, *, interval: float = 0.005, cooldown: float = 0.05) -> None:
        self.path = path
        self.interval = interval
        self.cooldown = cooldown
        self.connected = asyncio.Event()

    async def listen(self, wake: Callable[[Topics], None]) -> None:
        import sqlite3

        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            seen = conn.execute("PRAGMA data_version").fetchone()[0]
            self.connected.set()
            _safe_wake(wake, ALL_TOPICS)
            while True:
                await asyncio.sleep(self.interval)
                try:
                    version = conn.execute("PRAGMA data_version").fetchone()[0]
                except sqlite3.Error as exc:  # e.g. the file is being replaced; try again next time
                    log.warning("watching %s for commits failed: %s", self.path, exc)
                    continue
                if version != seen:
                    seen = version
                    _safe_wake(wake, ALL_TOPICS)
                    await asyncio.sleep(self.cooldown)
        finally:
            self.connected.clear()
            conn.close()
