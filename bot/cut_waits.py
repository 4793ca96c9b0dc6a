"""Renders that wait for other renders: a continuous shot for the one before, a cut for its shots.

A waiting render is parked: back in the queue, unleased, due only at :data:`WAITING` (never).
The render it waits for releases it when it ends (:func:`release_waiters`, after its own
commit). A render parked just as the one it waits for ended would miss that release, so
parking checks again afterwards and releases itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.cuts import WAITING, Cut
from bot.domain import Render, RenderStatus
from bot.errors import PermanentProviderError
from bot.lifecycle import TERMINAL_RENDER_STATES
from bot.render_context import RenderContext

S = RenderStatus


class Waiting(Exception):
    """The render waits for another (a previous shot, or the cut's shots); it was parked."""


async def cut_of(ctx: RenderContext, render: Render) -> Cut:
    assert render.cut_id is not None and ctx.cuts is not None
    cut = await ctx.cuts.get_cut(render.cut_id)
    if cut is None:
        raise PermanentProviderError(f"cut {render.cut_id} is missing")
    return cut


async def park(ctx: RenderContext, render: Render, *, waits_for: Sequence[str]) -> None:
    """Give the render back to the queue, unclaimable until what it waits for releases it."""
    render.next_attempt_at = WAITING
    render.lease_owner = None
    render.lease_expires_at = None
    await ctx.save(render)
    for other_id in waits_for:
        other = await ctx.queue.get_render(other_id)
        if other is None or other.status in TERMINAL_RENDER_STATES:
            async with ctx.uow.transaction() as tx:  # it ended while we parked: do not wait for it
                await tx.release_render(render.id, ctx.clock.now())
            return


async def release_waiters(ctx: RenderContext, render: Render) -> None:
    """After a shot ends (ready or failed): wake the shot that continues it, and the cut if it is due.

    Run after the shot's own commit, so of two shots ending at once the later sees both ended.
    """
    cut = await cut_of(ctx, render)
    shots = {s.index: await ctx.queue.get_render(s.render_id) for s in cut.shots}
    now = ctx.clock.now()
    async with ctx.uow.transaction() as tx:
        following = shots.get((render.shot or 0) + 1)
        if following is not None and cut.shot(following.shot or 0).continues:
            await tx.release_render(following.id, now)
        ended = all(s is not None and s.status in TERMINAL_RENDER_STATES for s in shots.values())
        # a failed shot fails the cut at once; otherwise the cut waits for its last shot
        if ended or render.status in (S.FAILED, S.CANCELLED):
            await tx.release_render(cut.render_id, now)
