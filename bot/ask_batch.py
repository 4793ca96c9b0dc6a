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

from collections.abc import Sequence
from dataclasses import dataclass

from bot.coalesce import Coalescer, together_or_alone
from bot.domain import VideoRequest
from bot.domain_events import DomainEvent
from bot.ports.storage import Tx, UnitOfWork


@dataclass(frozen=True)
class _Ask:
    key: str | None
    request: VideoRequest
    received: DomainEvent


class AskBatcher:
    """Writes asks (request + "received" event, keyed by the platform's retry identity) in batches."""

    # A whole burst in one batch: at 100, the asks of a burst of 200 that arrived while the first
    # was written went in two transactions, and the last acks waited for the second.
    def __init__(self, uow: UnitOfWork, *, most: int = 256) -> None:
        self.uow = uow
        self._asks: Coalescer[_Ask, bool] = Coalescer(self._write_many, most=most)

    async def record(self, key: str | None, request: VideoRequest, received: DomainEvent) -> bool:
        """Write the ask durably; ``False`` when ``key`` was seen before (a retried delivery)."""
        return await self._asks.submit(_Ask(key, request, received))

    async def idle(self) -> None:
        await self._asks.idle()

    async def _write_many(self, batch: Sequence[_Ask]) -> list[bool | BaseException]:
        return await together_or_alone(self.uow, batch, _write, what="asks")


async def _write(tx: Tx, batch: Sequence[_Ask]) -> list[bool]:
    """Write the asks whose key is new (the first of a key repeated within the batch); which were."""
    fresh = await tx.remember_events([a.key for a in batch if a.key is not None])
    new: list[bool] = []
    for ask in batch:
        new.append(ask.key is None or ask.key in fresh)
        if ask.key is not None:
            fresh.discard(ask.key)  # a second delivery of the same event in this batch is a repeat
    written = [ask for ask, is_new in zip(batch, new, strict=True) if is_new]
    await tx.add_requests([a.request for a in written])
    for ask in written:
        await tx.record(ask.received)
    return new
