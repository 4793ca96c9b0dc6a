"""Writes that arrive together go to the database together: one transaction for a burst.

A caller submits one item and awaits its own result; items that arrive while a
batch is being written join the next batch. A lone item is written at once, a
burst of 200 in a handful of transactions: on SQLite every write transaction
waits for the one writer, on PostgreSQL every commit for its own flush to disk.
Reads coalesce the same way (the thread presenter's request reads, the webhook
sink's endpoint reads): a burst of deliveries is a few queries, not one each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from bot.ports.storage import Tx, UnitOfWork

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# One result per item, in order; an exception in place of a result fails that item alone.
WriteMany = Callable[[Sequence[T]], Awaitable[Sequence[R | BaseException]]]
# Writes a batch inside the given transaction; one result per item, in order.
WriteIn = Callable[[Tx, Sequence[T]], Awaitable[Sequence[R]]]


class Coalescer(Generic[T, R]):
    """Batches items for ``write``, which returns one result (or exception) per item, in order."""

    def __init__(self, write: WriteMany[T, R], *, most: int = 100) -> None:
        self.write = write
        self.most = most
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write ``item`` with whatever else is waiting; its result, or the batch's failure."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending(), name="coalesce")
        # Written even if this caller stops waiting (its process is stopping): never half-written.
        return await asyncio.shield(done)

    async def idle(self) -> None:
        """Wait until everything submitted so far is written (tests, shutdown)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.most], self._pending[self.most :]
            try:
                results = await self.write([item for item, _ in batch])
            except asyncio.CancelledError:
                for _, done in [*batch, *self._pending]:
                    done.cancel()
                self._pending = []
                raise
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), result in zip(batch, results, strict=True):
                if done.done():
                    continue
                if isinstance(result, BaseException):
                    done.set_exception(result)
                else:
                    done.set_result(result)


async def together_or_alone(
    uow: UnitOfWork, batch: Sequence[T], write: WriteIn[T, R], *, what: str
) -> list[R | BaseException]:
    """``write`` the batch in one transaction; if that fails, each item in its own.

    One bad item (a duplicate key, a row another process changed) then fails alone and its
    neighbours are still written. A lone item's failure is raised as it is.
    """
    try:
        async with uow.transaction() as tx:
            return list(await write(tx, batch))
    except Exception:
        if len(batch) == 1:
            raise
    log.exception("writing %d %s together failed; writing them one by one", len(batch), what)
    results: list[R | BaseException] = []
    for item in batch:
        try:
            async with uow.transaction() as tx:
                results += await write(tx, [item])
        except Exception as exc:
            results.append(exc)
    return results
