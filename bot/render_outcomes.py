"""How a render's road ends or pauses: retry later, fail with a reason, or regenerate once after QC."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from bot import texts
from bot.cut_waits import release_waiters
from bot.domain import Render, RenderStatus, RequestStatus, VideoRequest, new_id
from bot.event_payloads import RenderFailed, RenderQcRegenerate, RenderRetry, RequestFailed
from bot.lifecycle import TERMINAL_RENDER_STATES
from bot.render_context import LeaseLost, RenderContext, facts
from bot.transitions import move_request

log = logging.getLogger(__name__)
S = RenderStatus
R = RequestStatus


async def retry_later(ctx: RenderContext, render: Render, reason: str, retry_after: float | None) -> None:
    """Give the render back to the queue to be tried again after a back-off (or fail it if tries are up)."""
    render.attempts += 1
    policy = ctx.config.retry
    if policy.exhausted(render.attempts):
        await fail(ctx, render, texts.gave_up(render.attempts, reason))
        return
    delay = policy.delay(render.attempts, retry_after=retry_after, rng=ctx.rng)
    render.next_attempt_at = ctx.clock.now() + timedelta(seconds=delay)
    render.failure_reason = reason
    render.lease_owner = None  # released: any worker may take it when it is due
    render.lease_expires_at = None
    request = await ctx.requests.get_request(render.request_id)
    log.warning("render %s: %s; retry %d in %.1fs", render.id, reason, render.attempts, delay)
    with contextlib.suppress(LeaseLost):
        async with ctx.uow.transaction() as tx:
            await ctx.save(render, tx)
            await tx.record(
                ctx.event(render, request, RenderRetry(**facts(render), reason=reason, delay=round(delay, 2)))
            )


async def fail(
    ctx: RenderContext, render: Render, reason: str, *, refused: bool = False, uncertain: bool = False
) -> None:
    """Fail the render; if no sibling is still rendering or ready, the request fails with the reason."""
    if render.status in TERMINAL_RENDER_STATES:
        return
    request = await ctx.requests.get_request(render.request_id)
    render.failure_reason = reason
    render.uncertain = uncertain
    if render.cost_actual is None and not uncertain and (render.remote_id is None or refused):
        render.cost_actual = 0.0  # never submitted, or refused: the provider charged nothing
    siblings = [r for r in await ctx.queue.renders_for(render.request_id) if r.id != render.id]
    last = not any(r.status not in TERMINAL_RENDER_STATES or r.status == S.READY for r in siblings)
    log.error("render %s failed: %s", render.id, reason)
    failed = RenderFailed(
        **facts(render), reason=reason, refused=refused, uncertain=uncertain, cost_actual=render.cost_actual
    )
    moved = False
    with contextlib.suppress(LeaseLost):
        async with ctx.uow.transaction() as tx:
            await ctx.move(tx, render, request, failed)
            moved = True
            if last and request is not None and request.status in (R.RENDERING, R.QUEUED):
                ended = RequestFailed(reason=reason, render_id=render.id, uncertain=uncertain)
                await move_request(
                    tx,
                    request,
                    ctx.event(render, request, ended),
                    expected=(R.RENDERING, R.QUEUED),
                    failure_reason=reason,
                )
    if moved and render.shot is not None:
        await release_waiters(ctx, render)  # the cut (and a shot chained to this one) hears at once


async def qc_retried(ctx: RenderContext, render: Render) -> bool:
    """Whether this brief was already made once more after a QC failure."""
    siblings = await ctx.queue.renders_for(render.request_id)
    return any(r.brief_id == render.brief_id and (r.failure_reason or "").startswith("QC:") for r in siblings)


async def regenerate_after_qc(
    ctx: RenderContext, render: Render, request: VideoRequest, findings: tuple[str, ...]
) -> None:
    """A clip with a hard QC failure is not worth a reviewer's time: make it once more."""
    render.failure_reason = "QC: " + "; ".join(findings)
    now = ctx.clock.now()
    again = Render(
        id=new_id("rnd"),
        request_id=render.request_id,
        brief_id=render.brief_id,
        brief_version=render.brief_version,
        provider=render.provider,
        model=render.model,
        seconds=render.seconds,
        size=render.size,
        variant=render.variant,
        cost_estimate=render.cost_estimate,
        price_per_second=render.price_per_second,
        quality=render.quality,
        pinned=render.pinned,
        created_at=now,
        updated_at=now,
    )
    regenerate = RenderQcRegenerate(**facts(render), findings=list(findings), replacement=again.id)
    async with ctx.uow.transaction() as tx:
        await ctx.move(tx, render, request, regenerate)
        await tx.add_renders(request, [again])
