"""The worker's side of a multi-shot cut: shots that finish, chains that wait, the cut that stitches.

A shot render runs like any render up to its download; then it is kept for stitching
(``shot.ready``) instead of being posted. The cut's own render waits unclaimable until
its last shot is ready (whoever finishes last makes it due), then stitches the shots in
one pass and goes to review like any clip. A shot that continues the previous shot's
take waits for it, then starts from its last frame (or extends its job) where the model
offers that. A shot that fails for good fails the cut, naming the shot.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

from bot import texts
from bot.cut_waits import Waiting, cut_of, park, release_waiters
from bot.cuts import Cut, shot_seed
from bot.domain import Brief, Render, RenderStatus, RequestStatus, VideoRequest
from bot.errors import MediaError, PermanentProviderError
from bot.event_payloads import CutStitching, RenderReady, RequestFailed, ShotReady
from bot.ports.media import ShotTake
from bot.ports.providers import Continuity
from bot.render_context import LeaseLost, RenderContext, facts
from bot.render_outcomes import fail
from bot.transitions import move_request

log = logging.getLogger(__name__)
S = RenderStatus
R = RequestStatus


@dataclass(frozen=True)
class ShotLink:
    """How a continuous shot joins the one before: a first frame, or an extension of its job."""

    first_frame: Path | None = None
    extend_remote_id: str | None = None


async def link_for(ctx: RenderContext, render: Render, brief: Brief) -> ShotLink | None:
    """The link of a shot that continues the previous one; ``None`` if it stands alone.

    Raises :class:`Waiting` (after parking the render) while the previous shot renders.
    """
    assert render.shot is not None
    cut = await cut_of(ctx, render)
    shot = cut.shot(render.shot)
    if not shot.continues or render.shot == 1:
        return None
    previous = await ctx.queue.get_render(cut.shot(render.shot - 1).render_id)
    if previous is None or previous.status in (S.FAILED, S.CANCELLED):
        raise PermanentProviderError(texts.chain_broken(render.shot, render.shot - 1))
    if previous.status != S.READY or previous.clip_path is None:
        await park(ctx, render, waits_for=[previous.id])
        raise Waiting(render.id)
    model = ctx.providers.get(render.provider).capabilities().model(render.model)
    if Continuity.FIRST_FRAME in model.continuity and ctx.cutter is not None:
        frame = ctx.media.work_dir("frames") / f"{previous.id}.last.png"
        if not frame.exists():
            await ctx.cutter.last_frame(Path(previous.clip_path), frame)
        return ShotLink(first_frame=frame)
    if Continuity.EXTEND in model.continuity and previous.provider == render.provider and previous.remote_id:
        return ShotLink(extend_remote_id=previous.remote_id)
    return None  # the model cannot chain: the shots cut hard, which is still a valid cut


async def shot_ready(ctx: RenderContext, render: Render, request: VideoRequest) -> None:
    """A downloaded shot is kept for its cut; the last one to finish makes the cut due."""
    assert render.cut_id is not None and render.shot is not None and render.clip_path is not None
    ready = ShotReady(**facts(render), cut_id=render.cut_id, shot=render.shot, cost_actual=render.cost_actual)
    await ctx.commit_move(render, request, ready)
    await release_waiters(ctx, render)


async def stitch_cut(ctx: RenderContext, render: Render, request: VideoRequest, brief: Brief) -> None:
    """The cut's own render: fail it if a shot failed, wait if one is still rendering, else stitch."""
    cut = await cut_of(ctx, render)
    if render.status == S.QUEUED:
        shots = [(s, await ctx.queue.get_render(s.render_id)) for s in cut.shots]
        for shot, made in shots:
            if made is None or made.status in (S.FAILED, S.CANCELLED):
                reason = (made.failure_reason if made else None) or "it is missing"
                await fail_cut(ctx, render, request, texts.shot_failed(shot.index, reason))
                return
        pending = [made.id for _, made in shots if made is not None and made.status != S.READY]
        if pending:
            await park(ctx, render, waits_for=pending)
            return
        stitching = CutStitching(
            **facts(render),
            cut_id=cut.id,
            version=cut.version,
            shot_render_ids=[s.render_id for s in cut.shots],
        )
        await ctx.commit_move(render, request, stitching)
    await _stitch(ctx, render, request, brief, cut)


async def _stitch(ctx: RenderContext, render: Render, request: VideoRequest, brief: Brief, cut: Cut) -> None:
    assert ctx.cutter is not None, "a worker that renders cuts has a cut finisher"
    takes = []
    for shot in cut.shots:
        made = await ctx.queue.get_render(shot.render_id)
        assert made is not None and made.clip_path is not None
        takes.append(
            ShotTake(
                index=shot.index,
                path=Path(made.clip_path),
                seconds=float(shot.seconds),
                continues=shot.continues,
                render_id=made.id,
                provider=made.provider,
                model=made.model,
                seed=shot_seed(made.brief_id, shot.index, made.variant),
                cost=made.cost_actual if made.cost_actual is not None else made.cost_estimate,
            )
        )
    try:
        processed = await ctx.cutter.finish(render, brief, request, takes, crossfade=cut.crossfade)
    except MediaError as exc:
        await fail_cut(ctx, render, request, str(exc))
        return
    render.clip_path = str(processed.path)
    render.qc_findings = list(processed.findings)
    render.provenance_digest = processed.provenance_digest
    render.progress = 100
    render.cost_actual = 0.0  # the shots carry the spend; the cut adds none
    ready = RenderReady(
        **facts(render),
        cost_actual=render.cost_actual,
        qc_findings=render.qc_findings,
        provenance=render.provenance_digest,
        attachments=[str(path) for path in processed.attachments],  # an explainer's captions
        notes=list(processed.notes),
    )
    await ctx.commit_ready(render, request, ready)


async def fail_cut(ctx: RenderContext, render: Render, request: VideoRequest, reason: str) -> None:
    """Fail the cut's render and its request (the reason names the shot), whatever other renders do."""
    await fail(ctx, render, reason)
    latest = await ctx.requests.get_request(request.id)
    if latest is None or latest.status not in (R.RENDERING, R.QUEUED):
        return
    with contextlib.suppress(LeaseLost):
        async with ctx.uow.transaction() as tx:
            ended = RequestFailed(reason=reason, render_id=render.id, uncertain=False)
            await move_request(
                tx,
                latest,
                ctx.event(render, latest, ended),
                expected=(R.RENDERING, R.QUEUED),
                failure_reason=reason,
            )
    log.error("cut %s of %s failed: %s", render.cut_id, request.id, reason)
