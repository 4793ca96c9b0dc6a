"""Submit a render to its provider at most once per attempt, and fail over within the workspace's policy.

The intent to submit is saved before the provider is called. A render found
with an intent but no remote id (a worker died mid-create), or a create that
ended ambiguously (timeout, 5xx, lost connection), is reconciled before any
second submit: the provider is asked whether it made a job for this render's
idempotency key. If it cannot tell, the render is failed as "submission
uncertain" (its estimate counts against the budget) and an approver decides
whether to retry, rather than clipdesk paying twice on its own.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from bot import texts
from bot.cuts import shot_prompt, shot_seed
from bot.domain import Brief, Plan, Render, VideoRequest
from bot.errors import CapacityError, ReconcileUnsupported, SubmissionUncertain, TransientProviderError
from bot.event_payloads import RenderFailover, RenderSubmitted
from bot.ports.providers import RenderSpec, VideoProvider
from bot.render_context import RenderContext, facts, render_seed
from bot.render_outcomes import fail

if TYPE_CHECKING:
    from bot.cut_run import ShotLink

log = logging.getLogger(__name__)


class Uncertain(Exception):
    """Reconciling could not tell whether a job exists; the render was failed as uncertain."""


def spec_for(render: Render, brief: Brief, link: ShotLink | None = None) -> RenderSpec:
    """What the provider is asked to make: the brief, or one shot of it in a multi-shot cut."""
    if render.shot is None:
        return RenderSpec(
            render_id=render.id,
            brief=brief,
            model=render.model,
            seconds=render.seconds,
            size=render.size,
            aspect=brief.aspect,
            seed=render_seed(render.id),
            idempotency_key=render.submit_key or render.idempotency_key,
        )
    return RenderSpec(
        render_id=render.id,
        brief=brief,
        model=render.model,
        seconds=render.seconds,
        size=render.size,
        aspect=brief.aspect,
        # fixed by the brief and shot: a final repeats its draft's shot, a re-render varies by attempt
        seed=shot_seed(render.brief_id, render.shot, render.variant),
        idempotency_key=render.submit_key or render.idempotency_key,
        # one shot as long as the whole brief (a one-shot draft or its final) renders the brief
        prompt=None if render.seconds == brief.seconds else shot_prompt(brief, render.shot),
        first_frame=link.first_frame if link else None,
        extend_remote_id=link.extend_remote_id if link else None,
    )


async def submit(
    ctx: RenderContext, render: Render, request: VideoRequest, brief: Brief, *, link: ShotLink | None = None
) -> bool:
    """Get ``render`` a remote job; ``False`` when the render was failed instead (it is then terminal)."""
    tried: list[str] = []
    while True:
        provider = ctx.providers.get(render.provider)
        if link is not None and render.provider != provider.name:
            link = None  # failed over: the other provider cannot extend this one's job
        spec = spec_for(render, brief, link)
        try:
            resend = False
            if render.submit_intent_at is not None:
                found = await _reconcile(ctx, provider, render, spec)
                if isinstance(found, str):
                    await _submitted(ctx, render, request, found, reconciled=True)
                    return True
                resend = found is _RESEND
            if not resend:
                # A fresh intent with a fresh key, saved before the provider hears of it.
                render.submit_intent_at = ctx.clock.now()
                render.submit_key = render.idempotency_key
                await ctx.save(render)
                spec = spec_for(render, brief, link)
            remote_id = await _create(ctx, provider, render, spec)
        except Uncertain:
            return False
        except TimeoutError as exc:
            raise SubmissionUncertain("the provider did not answer the create call in time") from exc
        except CapacityError as exc:
            if not await _fail_over(ctx, render, request, exc, tried):
                # Nowhere else to go within the workspace's policy: wait for this one to recover.
                reason = texts.provider_down_no_alternative(render.provider, str(exc))
                raise TransientProviderError(
                    reason, provider=render.provider, retry_after=exc.retry_after
                ) from exc
            continue
        await _submitted(ctx, render, request, remote_id, reconciled=False)
        return True


async def _create(ctx: RenderContext, provider: VideoProvider, render: Render, spec: RenderSpec) -> str:
    """Call the provider's create; a refusal that certainly started nothing clears the intent."""
    try:
        return await asyncio.wait_for(provider.submit(spec), ctx.config.call_timeout)
    except (SubmissionUncertain, TimeoutError):
        raise  # a job may exist: the intent stays, so the next try reconciles first
    except Exception:
        # Refused, rate limited, unreachable: no job exists, so the next try may simply submit.
        render.submit_intent_at = None
        render.submit_key = None
        raise


async def reconcile_after_ambiguity(
    ctx: RenderContext, render: Render, request: VideoRequest, brief: Brief
) -> bool:
    """After an ambiguous create: adopt the job the provider made, or say it must be submitted again.

    Returns ``True`` when the render now has its remote id; ``False`` when no job exists (the
    caller retries the submit later, with the same idempotency key). Raises :class:`Uncertain`
    when the provider cannot tell (the render has then been failed).
    """
    provider = ctx.providers.get(render.provider)
    found = await _reconcile(ctx, provider, render, spec_for(render, brief))
    if not isinstance(found, str):
        return False
    await _submitted(ctx, render, request, found, reconciled=True)
    return True


class _Resend:
    """The provider cannot look jobs up but honours the key: send the same key again."""


_RESEND = _Resend()


async def _reconcile(
    ctx: RenderContext, provider: VideoProvider, render: Render, spec: RenderSpec
) -> str | _Resend | None:
    """The job an earlier submit of this attempt made; ``None`` if it certainly made none."""
    try:
        # A little slack before the intent: the provider's clock and ours disagree by a moment.
        since = render.submit_intent_at - timedelta(seconds=5) if render.submit_intent_at else None
        found = await asyncio.wait_for(provider.find(spec, since=since), ctx.config.call_timeout)
    except ReconcileUnsupported:
        if provider.capabilities().idempotent_submit:
            return _RESEND  # sending the same key again cannot start a second job
        await fail(ctx, render, texts.SUBMISSION_UNCERTAIN, uncertain=True)
        raise Uncertain(render.id) from None
    except (TimeoutError, TransientProviderError) as exc:
        raise TransientProviderError(
            f"could not look up an earlier submit: {exc}", provider=render.provider
        ) from exc
    if found:
        log.warning("render %s: adopting job %s its earlier submit made", render.id, found)
    return found


async def _submitted(
    ctx: RenderContext, render: Render, request: VideoRequest, remote_id: str, *, reconciled: bool
) -> None:
    # The remote id is stored before any waiting: a crash from here on resumes, not re-pays.
    render.remote_id = remote_id
    render.submitted_at = ctx.clock.now()
    submitted = RenderSubmitted(
        **facts(render),
        remote_id=remote_id,
        seed=render_seed(render.id),
        cost_estimate=render.cost_estimate,
        reconciled=reconciled,
    )
    await ctx.commit_move(render, request, submitted)


async def _fail_over(
    ctx: RenderContext, render: Render, request: VideoRequest, exc: CapacityError, tried: list[str]
) -> bool:
    """Move the render to the next provider the workspace allows; ``False`` if there is none."""
    tried.append(render.provider)
    current = Plan(
        provider=render.provider,
        model=render.model,
        seconds=render.seconds,
        aspect=_aspect(render),
        size=render.size,
        variants=1,
        price_per_second=render.price_per_second,
        pinned=render.pinned,
        quality=render.quality,
    )
    plan = ctx.planner.failover(request.target, current, tried)
    if plan is None:
        return False
    before = render.provider
    log.warning("render %s: %s is unavailable (%s); moving it to %s", render.id, before, exc, plan.provider)
    render.provider, render.model, render.size = plan.provider, plan.model, plan.size
    render.price_per_second = plan.price_per_second
    render.cost_estimate = plan.cost_per_render
    render.submit_intent_at = None  # the new provider has no job of ours yet
    async with ctx.uow.transaction() as tx:
        await ctx.save(render, tx)
        failover = RenderFailover(**facts(render), reason=str(exc), from_provider=before)
        await tx.record(ctx.event(render, request, failover))
    return True


def _aspect(render: Render) -> str:
    width, height = render.width, render.height
    if width == height:
        return "1:1"
    return "16:9" if width > height else "9:16"
