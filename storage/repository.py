"""The SQL store: one engine, a unit of work, and the narrow ports the core uses, by concern.

``store.transaction()`` is the :class:`bot.ports.storage.UnitOfWork`;
``store.requests`` (requests, briefs, intake leases, lists), ``store.renders``
(the render queue and spend), ``store.outbox`` (outbox and message refs) and
``store.audit`` (the audit log) are the read and lease ports. After a
transaction that queued renders or outbox entries commits, this process's
listeners are told at once (the worker and deliverer wake instead of waiting
for their tick); on PostgreSQL triggers on ``renders`` and ``outbox`` send a
``NOTIFY`` in the same transaction that tells the other processes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain_events import DomainEvent
from bot.outbox import Subscriptions
from bot.ports.signals import RENDERS, outbox_topic
from storage.audit import SqlAudit
from storage.cuts import SqlCuts
from storage.outbox import SqlOutbox
from storage.renders import SqlRenders
from storage.requests import SqlRequests
from storage.tx import SqlTx

log = logging.getLogger(__name__)

Listener = Callable[[frozenset[str]], None]
Observer = Callable[[Sequence[DomainEvent]], None]


class SqlStore:
    """Everything clipdesk keeps, on SQLite (the embedded default) or PostgreSQL (production)."""

    def __init__(self, engine: AsyncEngine, subscriptions: Subscriptions | None = None) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.subscriptions = subscriptions or Subscriptions()
        self.requests = SqlRequests(engine)
        self.renders = SqlRenders(engine)
        self.outbox = SqlOutbox(engine)
        self.audit = SqlAudit(engine)
        self.cuts = SqlCuts(engine)
        self._listeners: list[Listener] = []
        self._observers: list[Observer] = []

    def on_commit(self, listener: Listener) -> None:
        """Call ``listener(topics)`` after a transaction that queued work commits (see :func:`_topics`)."""
        self._listeners.append(listener)

    def on_events(self, observer: Observer) -> None:
        """Call ``observer(events)`` with the events of every transaction that commits (metrics)."""
        self._observers.append(observer)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTx]:
        """A unit of work: commits when the block ends, rolls back if it raises."""
        async with self.engine.begin() as conn:
            tx = SqlTx(conn, self.subscriptions)
            yield tx
            await tx.flush()
            # Other processes hear of it from PostgreSQL's own triggers (migration 0006), in this
            # transaction and without a round trip; this process's listeners are told below.
            topics = _topics(tx)
        if tx.claimed and tx.claimed_at is not None:
            self.renders.claimed(tx.claimed, tx.claimed_at)
        if tx.events:
            for observer in self._observers:
                try:
                    observer(tx.events)
                except Exception:
                    log.exception("an event observer failed")
        if topics:
            for listener in self._listeners:
                try:
                    listener(topics)
                except Exception:
                    log.exception("a commit listener failed")

    async def close(self) -> None:
        await self.engine.dispose()


def _topics(tx: SqlTx) -> frozenset[str]:
    """What the transaction queued: ``renders`` and ``outbox:<sink>:<route>`` per kind of entry, so
    a process wakes its deliverer only for entries it can deliver (see :func:`bot.ports.signals`)."""
    found = {outbox_topic(sink, route) for sink, route in tx.outbox_for}
    if tx.queued_renders:
        found.add(RENDERS)
    return frozenset(found)
