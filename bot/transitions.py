"""The one path by which a request or a render changes state.

Each function checks the move against the life-cycle table, writes the row with
a compare-and-set, and records the one domain event that explains the move, all
inside the caller's unit of work. The event's kind decides the target state
(:data:`bot.event_kinds.REQUEST_TARGETS`), so a move without its event, or an
event that claims another move, cannot be written.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from bot.domain import Render, RequestStatus, VideoRequest
from bot.domain_events import DomainEvent
from bot.event_kinds import RENDER_TARGETS, REQUEST_TARGETS
from bot.lifecycle import advance_render, advance_request
from bot.ports.storage import Tx


async def move_request(
    tx: Tx,
    request: VideoRequest,
    event: DomainEvent,
    *,
    expected: Collection[RequestStatus] = (),
    failure_reason: str | None = None,
) -> VideoRequest | None:
    """Move ``request`` to the state ``event`` names; ``None`` if it was no longer in ``expected``.

    Args:
        tx: The unit of work the row, the audit event and the outbox entries are written in.
        request: The request as the caller last read it.
        event: The event that explains the move; its kind decides the target state.
        expected: The states the move may start from (default: the state ``request`` was read in).
        failure_reason: Stored on the request (shown in status lists and the API).
    """
    to = REQUEST_TARGETS[event.kind]
    starts = tuple(expected) or (request.status,)
    for current in starts:
        advance_request(current, to)  # refuse an illegal move before touching the database
    result = await tx.move_request(request.id, starts, to, failure_reason=failure_reason)
    if result is None:
        return None
    moved, previous = result
    await tx.record(event.moved(previous.value, to.value))
    return moved


async def move_requests(
    tx: Tx, moves: Sequence[tuple[VideoRequest, DomainEvent]]
) -> list[VideoRequest | None]:
    """:func:`move_request` for many requests making the same move, in one statement.

    Every request must have been read in the same state and every event must name the same target
    (a burst of asks moving to refining). One result per move, in order: ``None`` for a request
    that was no longer in that state.
    """
    if not moves:
        return []
    starts = {request.status for request, _ in moves}
    targets = {REQUEST_TARGETS[event.kind] for _, event in moves}
    if len(starts) != 1 or len(targets) != 1:
        raise ValueError("move_requests moves requests from one state to one state")
    (start,), (to,) = starts, targets
    advance_request(start, to)
    moved = await tx.move_requests([request.id for request, _ in moves], start, to)
    results: list[VideoRequest | None] = []
    for request, event in moves:
        # A request twice in one batch moves once, like two compare-and-sets one after the other.
        found = moved.pop(request.id, None)
        if found is not None:
            await tx.record(event.moved(start.value, to.value))
        results.append(found)
    return results


async def move_render(
    tx: Tx, render: Render, event: DomainEvent, *then: DomainEvent, owner: str | None
) -> bool:
    """Move ``render`` (already carrying its new field values) to the state ``event`` names.

    ``then`` are further moves made at once (a job found finished at the first look is running
    and completed): each is checked against the life cycle and recorded, and the row is written
    once, in the last state. With ``owner``, the write happens only while that worker still holds
    the render's lease; ``False`` means the lease was lost and nothing was written.
    """
    before = render.status
    steps: list[tuple[DomainEvent, str, str]] = []
    at = before
    for each in (event, *then):
        to = advance_render(at, RENDER_TARGETS[each.kind])
        steps.append((each, at.value, to.value))
        at = to
    render.status = at
    if not await tx.save_render(render, owner):
        render.status = before
        return False
    for each, start, end in steps:
        await tx.record(each.moved(start, end))
    return True
