"""Asks allowed together move to refining together: one statement and one transaction for a burst.

After its moderation verdict, each ask records the verdict and moves to
``refining``, the commit that opens its thread. 200 asks at once made 200 such
transactions, each waiting for a pooled connection (and on SQLite for the one
writer), and the deliverer's claims of the thread-opening entries queued behind
them; a shared transaction of 100 moves one by one was no better on
PostgreSQL, each statement a round trip through a busy event loop. Here an
ask that arrives while a batch is being written joins the next one, and a
batch is three statements: the verdicts, one multi-row compare-and-set, the
events. If a batch fails, its asks are written one by one so one cannot fail
the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.coalesce import Coalescer, together_or_alone
from bot.domain import VideoRequest
from bot.domain_events import DomainEvent
from bot.ports.storage import Tx, UnitOfWork
from bot.transitions import move_requests


@dataclass(frozen=True)
class _Opening:
    request: VideoRequest  # as read, in ``received``
    checked: DomainEvent  # the moderation verdict
    refining: DomainEvent  # the move that opens the thread


class Openings:
    """Records allowed asks' verdicts and moves them to refining, in batches."""

    def __init__(self, uow: UnitOfWork, *, most: int = 200) -> None:
        self.uow = uow
        self._openings: Coalescer[_Opening, VideoRequest | None] = Coalescer(self._write_many, most=most)

    async def open(
        self, request: VideoRequest, checked: DomainEvent, refining: DomainEvent
    ) -> VideoRequest | None:
        """Record ``checked`` and make the ``refining`` move; ``None`` if another process moved it first."""
        return await self._openings.submit(_Opening(request, checked, refining))

    async def idle(self) -> None:
        await self._openings.idle()

    async def _write_many(self, batch: Sequence[_Opening]) -> list[VideoRequest | BaseException | None]:
        return await together_or_alone(self.uow, batch, _write, what="asks' openings")


async def _write(tx: Tx, batch: Sequence[_Opening]) -> list[VideoRequest | None]:
    for opening in batch:
        await tx.record(opening.checked)
    return await move_requests(tx, [(o.request, o.refining) for o in batch])
