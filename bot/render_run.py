"""Drive one claimed render through its steps: submit, poll, download, post-process, ready.

Every step is saved before the next starts, and every save checks that this
worker still holds the lease. The deadline counts from submission; every
provider call is bounded, so a hung call frees the slot and the lease.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from datetime import timedelta
from pathlib import Path

from bot import log_context, texts
from bot.backoff import poll_interval
from bot.cut_run import link_for, shot_ready, stitch_cut
from bot.cut_waits import Waiting
from bot.domain import Brief, Render, RenderStatus, RequestStatus, VideoRequest
from bot.errors import (
    ContentRefused,
    InvalidOptions,
    MediaError,
    PermanentProviderError,
    StorageFull,
    SubmissionUncertain,
    TransientProviderError,
)
from bot.event_payloads import (
    RenderCancelled,
    RenderCompleted,
    RenderDownloaded,
    RenderReady,
    RenderRunning,
)
from bot.ports.providers import RemoteState
from bot.ports.storage import ClaimedWork
from bot.render_context import LeaseLost, RenderContext, facts
from bot.render_outcomes import fail, qc_retried, regenerate_after_qc, retry_later
from bot.submission import Uncertain, reconcile_after_ambiguity, submit

log = logging.getLogger(__name__)
S = RenderStatus
R = RequestStatus
_RESOURCE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


async def run_render(ctx: RenderContext, claim: ClaimedWork) -> None:
    """Drive the claimed render as far as it goes now; every outcome is saved (or the lease was lost)."""
    render, request = claim.render, claim.request
    try:
        if request is not None:
            log_context.bind(platform=request.target.platform, workspace=request.target.workspace)
        await _drive(ctx, render, request, claim.brief)
    except LeaseLost:
        log.warning("lost the lease on render %s; another worker has it", render.id)
    except SubmissionUncertain as exc:
        await _after_ambiguous_submit(ctx, render, request, claim.brief, str(exc))
    except Uncertain:
        pass  # failed as "submission uncertain" already
    except Waiting:
        pass  # parked until the render it waits for releases it
    except TransientProviderError as exc:
        await retry_later(ctx, render, str(exc), exc.retry_after)
    except StorageFull as exc:
        log.error("render %s: %s", render.id, exc)
        await retry_later(ctx, render, texts.STORAGE_FULL, None)
    except TimeoutError:
        await _timed_out(ctx, render)
    except ContentRefused as exc:
        await fail(ctx, render, texts.refused_by(render.provider, str(exc)), refused=True)
    except (PermanentProviderError, InvalidOptions, MediaError) as exc:
        await fail(ctx, render, str(exc))
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("render %s failed unexpectedly on %s", render.id, render.provider)
        await retry_later(ctx, render, f"internal error: {type(exc).__name__}", None)
    finally:
        if render.remote_id:
            ctx.pokes.pop(render.remote_id, None)


async def _drive(
    ctx: RenderContext, render: Render, request: VideoRequest | None, brief: Brief | None
) -> None:
    if request is None or request.status not in (R.QUEUED, R.RENDERING):
        # Cancelled, or failed meanwhile (e.g. its thread could not be opened): make nothing.
        if render.remote_id:
            await ctx.providers.get(render.provider).cancel(render.remote_id)
        await ctx.commit_move(render, request, RenderCancelled(**facts(render)))
        return
    if brief is None:
        raise PermanentProviderError(f"brief {render.brief_id} is missing")
    if render.cut_id is not None and render.shot is None:
        await stitch_cut(ctx, render, request, brief)  # a cut's own render: no provider job
        return
    link = None
    if render.status == S.QUEUED and render.shot is not None:
        link = await link_for(ctx, render, brief)  # a continuous shot waits for the one before
    async with ctx.provider_slot(render.provider):
        if render.status == S.QUEUED and not await submit(ctx, render, request, brief, link=link):
            return
        if render.status in (S.SUBMITTED, S.RUNNING):
            await _poll(ctx, render, request)
        if render.status == S.DOWNLOADING:
            await _download(ctx, render, request)
    if render.status == S.POSTPROCESSING:
        if render.shot is not None:
            await shot_ready(ctx, render, request)  # kept for its cut, not reviewed alone
        else:
            await _postprocess(ctx, render, request, brief)


async def _after_ambiguous_submit(
    ctx: RenderContext, render: Render, request: VideoRequest | None, brief: Brief | None, reason: str
) -> None:
    """A create ended ambiguously: adopt the job it made, or try again with the same key later."""
    if request is None or brief is None:
        return
    try:
        if await reconcile_after_ambiguity(ctx, render, request, brief):
            await _drive(ctx, render, request, brief)
            return
    except Uncertain:
        return
    except TransientProviderError as exc:
        reason = f"{reason}; {exc}"
    await retry_later(ctx, render, reason, None)


async def _timed_out(ctx: RenderContext, render: Render) -> None:
    """A provider call hung past its bound: fail if the render is past its deadline, else retry."""
    if _past_deadline(ctx, render):
        await fail(ctx, render, texts.not_finished_within(ctx.config.render_timeout))
    else:
        await retry_later(ctx, render, "a provider call timed out", None)


def _past_deadline(ctx: RenderContext, render: Render) -> bool:
    started = render.submitted_at
    return started is not None and ctx.clock.now() > started + timedelta(seconds=ctx.config.render_timeout)


async def _poll(ctx: RenderContext, render: Render, request: VideoRequest) -> None:
    assert render.remote_id is not None
    provider = ctx.providers.get(render.provider)
    config = ctx.config
    polls, shown = 0, -100
    while True:
        status = await asyncio.wait_for(provider.status(render.remote_id), _call_bound(ctx, render))
        if status.state == RemoteState.COMPLETED:
            render.progress = 100
            render.cost_actual = status.cost if status.cost is not None else render.cost_estimate
            # Done at the first look: both moves (and both events) in one transaction.
            completed = RenderCompleted(**facts(render), cost_actual=render.cost_actual)
            if render.status == S.SUBMITTED:
                await ctx.commit_move(render, request, RenderRunning(**facts(render)), completed)
            else:
                await ctx.commit_move(render, request, completed)
            return
        if status.state == RemoteState.FAILED:
            if not status.charged:
                render.cost_actual = 0.0
            reason = status.error or "the provider reported a failure without a reason"
            if status.refused:
                raise ContentRefused(reason, provider=render.provider)
            raise PermanentProviderError(reason, provider=render.provider)
        if status.state == RemoteState.RUNNING and render.status == S.SUBMITTED:
            render.progress = status.progress
            await ctx.commit_move(render, request, RenderRunning(**facts(render)))
            shown = render.progress
        elif status.progress != render.progress:
            render.progress = status.progress
            if render.progress - shown >= 10 or render.progress == 100:
                shown = render.progress
                await ctx.progress(render, request)
            else:
                await ctx.save(render)
        if _past_deadline(ctx, render):
            raise PermanentProviderError(texts.not_finished_within(config.render_timeout))
        polls += 1
        pushed = render.provider in config.push_providers
        # Providers that push completion (webhooks) are polled only as a safety net.
        start, cap = (
            (config.poll_cap, config.poll_cap * 6) if pushed else (config.poll_start, config.poll_cap)
        )
        await _wait_for_poll(
            ctx,
            render.remote_id,
            # A pushed provider's hint would bring back the polling the webhook makes unnecessary.
            poll_interval(polls, start=start, cap=cap, hint=None if pushed else status.poll_after),
        )


def _call_bound(ctx: RenderContext, render: Render) -> float:
    """One call's bound: the configured call timeout, never past the render's deadline (but > 0)."""
    bound = ctx.config.call_timeout
    if render.submitted_at is not None:
        left = (
            render.submitted_at + timedelta(seconds=ctx.config.render_timeout) - ctx.clock.now()
        ).total_seconds()
        bound = min(bound, max(left, 0.05))
    return bound


async def _wait_for_poll(ctx: RenderContext, remote_id: str, seconds: float) -> None:
    """Sleep until the next poll, or until a webhook says the remote job changed."""
    poke = ctx.pokes.setdefault(remote_id, asyncio.Event())
    sleeper = asyncio.ensure_future(ctx.sleep(seconds))
    waiter = asyncio.ensure_future(poke.wait())
    try:
        await asyncio.wait({sleeper, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        waiter.cancel()
        poke.clear()


async def _download(ctx: RenderContext, render: Render, request: VideoRequest) -> None:
    assert render.remote_id is not None
    # No progress save first: the move to "downloading" already told the thread.
    try:
        dest = ctx.media.work_dir("downloads") / f"{render.id}.mp4"
        await asyncio.wait_for(
            ctx.providers.get(render.provider).download(render.remote_id, dest),
            max(ctx.config.call_timeout, 600.0),  # a big clip streams for a while; still bounded
        )
        size = dest.stat().st_size
    except OSError as exc:
        raise _resource_fault(exc) from exc
    render.clip_path = str(dest)
    await ctx.commit_move(render, request, RenderDownloaded(**facts(render), bytes=size))


async def _postprocess(ctx: RenderContext, render: Render, request: VideoRequest, brief: Brief) -> None:
    # No progress save first: the move to "post-processing" already told the thread.
    assert render.clip_path is not None
    try:
        processed = await ctx.post.process(render, brief, request, Path(render.clip_path))
    except OSError as exc:
        raise _resource_fault(exc) from exc
    if processed.hard_failure and ctx.config.qc_regenerate_once and not await qc_retried(ctx, render):
        await regenerate_after_qc(ctx, render, request, processed.findings)
        return
    render.clip_path = str(processed.path)
    render.qc_findings = list(processed.findings)
    render.provenance_digest = processed.provenance_digest
    ready = RenderReady(
        **facts(render),
        cost_actual=render.cost_actual,
        qc_findings=render.qc_findings,
        provenance=render.provenance_digest,
        attachments=[str(path) for path in processed.attachments],
        notes=list(processed.notes),
    )
    await ctx.commit_ready(render, request, ready)


def _resource_fault(exc: OSError) -> Exception:
    """A full or unwritable media folder is transient (the paid work is kept); other OS errors are not."""
    if exc.errno in _RESOURCE_ERRNOS:
        return StorageFull(f"{exc.strerror or exc} ({type(exc).__name__})")
    return exc
