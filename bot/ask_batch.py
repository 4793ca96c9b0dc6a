"""Asks that arrive together are recorded together: one transaction for a burst, not one per ask.

Every ask is written before the platform hears "on it". A burst of 200
`/video` commands used to make 200 transactions one after another (SQLite has
one writer; each PostgreSQL commit waits for its own flush to disk), so the
acknowledgement of the last ask waited for all of them. Here an ask that
arrives while a batch is being written joins the next one: a lone ask is
written at once, a burst in a handful of transactions. Each ask's retry key is
still checked on its own, and if a batch fails, its asks are written one by one
so one bad ask cannot fail the others.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from bot.domain import VideoRequest
from bot.domain_events import DomainEvent
from bot.ports.storage import Tx, UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class _Ask:
    key: str | None
    request: VideoRequest
    received: DomainEvent
    done: asyncio.Future[bool] = field(repr=False)


class AskBatcher:
    """Writes asks (request + "received" event, keyed by the platform's retry identity) in batches."""

    def __init__(self, uow: UnitOfWork, *, most: int = 100) -> None:
        self.uow = uow
        self.most = most
        self._pending: list[_Ask] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, key: str | None, request: VideoRequest, received: DomainEvent) -> bool:
        """Write the ask durably; ``False`` when ``key`` was seen before (a retried delivery)."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append(_Ask(key, request, received, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending(), name="asks")
        # The ask is written even if this caller stops waiting (its process is stopping): an ask
        # recorded but not acknowledged is resumed like any other, never half-written.
        return await asyncio.shield(done)

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.most], self._pending[self.most :]
            try:
                async with self.uow.transaction() as tx:
                    written = await _write(tx, batch)
            except asyncio.CancelledError:
                for ask in [*batch, *self._pending]:
                    if not ask.done.done():
                        ask.done.cancel()
                self._pending = []
                raise
            except Exception as exc:
                if len(batch) == 1:
                    if not batch[0].done.done():
                        batch[0].done.set_exception(exc)
                    continue
                log.exception("writing %d asks together failed; writing them one by one", len(batch))
                for ask in batch:
                    await self._write_alone(ask)
                continue
            kept = {id(ask) for ask in written}
            for ask in batch:
                if not ask.done.done():
                    ask.done.set_result(id(ask) in kept)

    async def _write_alone(self, ask: _Ask) -> None:
        try:
            async with self.uow.transaction() as tx:
                written = await _write(tx, [ask])
        except Exception as exc:
            if not ask.done.done():
                ask.done.set_exception(exc)
            return
        if not ask.done.done():
            ask.done.set_result(bool(written))


async def _write(tx: Tx, batch: list[_Ask]) -> list[_Ask]:
    """Write the asks whose key is new (the first of a key repeated within the batch); return them."""
    fresh = await tx.remember_events([a.key for a in batch if a.key is not None])
    written: list[_Ask] = []
    for ask in batch:
        if ask.key is not None:
            if ask.key not in fresh:
                continue
            fresh.discard(ask.key)  # a second delivery of the same event in this batch is a repeat
        written.append(ask)
    await tx.add_requests([a.request for a in written])
    for ask in written:
        await tx.record(ask.received)
    return written
