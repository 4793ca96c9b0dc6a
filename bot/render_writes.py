"""A worker's render steps that are ready together commit together: one transaction for a batch.

A worker drives many renders at once, and with a fast provider they reach each
step at nearly the same moment: sixteen "submitted" saves, then sixteen
"completed". Each used to be a transaction of its own, with its own BEGIN and
COMMIT, its own audit and outbox INSERTs and, on SQLite, its own turn at the one
writer. Now a step waits for no one: it is written at once if nothing is being
written, else with every step that arrived meanwhile, in the next transaction
(group commit). Each render's step is still its own compare-and-set, and each
caller still learns its own outcome, :class:`LeaseLost` included.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.coalesce import Coalescer, together_or_alone
from bot.domain import Render
from bot.ports.storage import Tx, UnitOfWork

# Writes one render's step in the given transaction. A failure of its own (LeaseLost) is raised
# before the step writes anything, so the transaction stays sound for the batch's other steps. Its
# lease-checked render saves may be held to the end of the transaction: a step reads back no
# render row it saved.
Step = Callable[[Tx], Awaitable[None]]


@dataclass
class _Pending:
    render: Render
    step: Step
    before: Render  # the render as it was handed in: a step written again alone starts from here


class RenderWrites:
    """Batches render steps; :meth:`write` returns once its step is committed."""

    def __init__(self, uow: UnitOfWork, *, alone: tuple[type[Exception], ...] = (), most: int = 64) -> None:
        self.uow = uow
        # Failures of one step that leave the transaction sound (a lost lease: the compare-and-set
        # wrote nothing): that step fails and the batch commits. Any other error fails the batch,
        # and its steps are written again one by one.
        self.alone = alone
        self._batches: Coalescer[_Pending, None] = Coalescer(self._write, most=most)

    async def write(self, render: Render, step: Step) -> None:
        """Commit ``step`` (which changes ``render``) with whatever other steps are waiting."""
        await self._batches.submit(_Pending(render, step, copy.copy(render)))

    async def idle(self) -> None:
        await self._batches.idle()

    async def _write(self, batch: Sequence[_Pending]) -> Sequence[BaseException | None]:
        return await together_or_alone(self.uow, batch, self._in_one, what="render steps")

    async def _in_one(self, tx: Tx, batch: Sequence[_Pending]) -> list[BaseException | None]:
        if len(batch) > 1:
            # One statement for all the batch's render saves. A lost lease fails the batch, and
            # each step is then written alone, where its own save tells it the lease is gone.
            tx.hold_saves()
        results: list[BaseException | None] = [None] * len(batch)
        # In request order: two workers' batches that both move requests (variants of one request
        # on two workers) lock those rows in the same order, so neither waits on the other forever.
        for i in sorted(range(len(batch)), key=lambda i: (batch[i].render.request_id, i)):
            pending = batch[i]
            # A batch that failed is written again one step at a time: undo what the first try set
            # on the render (a moved status), so the step checks the life cycle from where it was.
            vars(pending.render).update(vars(copy.copy(pending.before)))
            try:
                await pending.step(tx)
            except self.alone as exc:
                results[i] = exc
        return results
