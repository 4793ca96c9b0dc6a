"""A worker's claim: the renders leased, their requests and briefs read, and the queued requests
started, all in one unit of work.

A render used to read its request and brief on its own and move its request to
"rendering" in a transaction of its own: three more round trips per render before
any provider call. Now the claim does all of it for the batch it leases, and each
render keeps what was read for all its steps.
"""

from __future__ import annotations

from bot.domain import RequestStatus, VideoRequest
from bot.domain_events import DomainEvent
from bot.event_payloads import RequestRendering
from bot.ports.storage import ClaimedWork, Tx
from bot.render_context import RenderContext
from bot.transitions import move_requests


async def claim(ctx: RenderContext, limit: int) -> list[ClaimedWork]:
    """Lease up to ``limit`` due renders and start their queued requests, in one transaction."""
    async with ctx.uow.transaction() as tx:
        # "Now" once the transaction holds its connection: a claim that waited for one (a busy pool,
        # SQLite's writer) must not write a lease that has lapsed already.
        claimed = await tx.claim_work(ctx.owner, ctx.clock.now(), ctx.config.lease_seconds, limit)
        changed = await _start_requests(ctx, tx, claimed)
    for request_id in changed:
        # Moved meanwhile (another worker started it, or it was cancelled): read how it is now.
        now = await ctx.requests.get_request(request_id)
        for each in claimed:
            if each.request is not None and each.request.id == request_id:
                each.request = now
    return claimed


async def _start_requests(ctx: RenderContext, tx: Tx, claimed: list[ClaimedWork]) -> list[str]:
    """Move every queued request of the batch to "rendering"; the event names the first of its
    renders in the batch. Returns the requests that were no longer queued."""
    first: dict[str, ClaimedWork] = {}
    for each in claimed:
        request = each.request
        if request is not None and request.status == RequestStatus.QUEUED:
            first.setdefault(request.id, each)
    moves: list[tuple[VideoRequest, DomainEvent]] = []
    for each in first.values():
        assert each.request is not None
        started = ctx.event(each.render, each.request, RequestRendering(render_id=each.render.id))
        moves.append((each.request, started))
    moved: dict[str, VideoRequest] = {}
    changed: list[str] = []
    for (request, _), now in zip(moves, await move_requests(tx, moves), strict=True):
        if now is None:
            changed.append(request.id)
        else:
            moved[request.id] = now
    for each in claimed:
        if each.request is not None and each.request.id in moved:
            each.request = moved[each.request.id]
    return changed
