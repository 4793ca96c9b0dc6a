"""The request service: every move of a request, with its audit event and its message.

Each method checks who may act, moves the request with a compare-and-set in
the store (so a double click or a race is answered, not applied twice), and
then tells the thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from bot import views
from bot.chat import ChatRouter
from bot.domain import (
    AuditEvent,
    Brief,
    Render,
    RenderOptions,
    RenderStatus,
    ReplyTarget,
    RequestStatus,
    VideoRequest,
    new_id,
)
from bot.errors import (
    AlreadyDecided,
    InvalidOptions,
    ModerationUnavailable,
    OverBudget,
    PromptBlocked,
    UnknownRequest,
)
from bot.events import Actor
from bot.moderation import LocalRulesModerator, ModerationChain, PatternMatcher
from bot.people import RealPeopleModerator
from bot.policy import Policy
from bot.ports import (
    ApprovalSealer,
    Clarification,
    Clock,
    ModerationResult,
    Moderator,
    PromptRefiner,
    RefineInput,
    Store,
)
from bot.refiner import OfflineRefiner
from bot.routing import Plan, ProviderRouter

log = logging.getLogger(__name__)
R = RequestStatus


def audit_for(kind: str, actor: str, request: VideoRequest, **data: object) -> AuditEvent:
    return AuditEvent(
        kind=kind,
        actor=actor,
        request_id=request.id,
        platform=request.target.platform,
        workspace=request.target.workspace,
        channel=request.target.channel,
        data=dict(data),
    )


class RequestService:
    def __init__(
        self,
        *,
        store: Store,
        providers: ProviderRouter,
        refiner: PromptRefiner,
        moderator: Moderator,
        chat: ChatRouter,
        policy_for: Callable[[ReplyTarget], Policy],
        clock: Clock,
        fallback_refiner: PromptRefiner | None = None,
        sealer: ApprovalSealer | None = None,
        patterns: PatternMatcher | None = None,
    ) -> None:
        self.store = store
        self.providers = providers
        self.refiner = refiner
        self.fallback_refiner = fallback_refiner or OfflineRefiner()
        self.moderator = moderator
        self.chat = chat
        self.policy_for = policy_for
        self.clock = clock
        self.sealer = sealer
        self.patterns = patterns  # runs blocked_patterns with a time limit, off the event loop

    # ------------------------------------------------------------------ look-ups

    async def load(self, request_id: str) -> VideoRequest:
        request = await self.store.get_request(request_id)
        if request is None:
            raise UnknownRequest("I can't find that video request any more; start a new one with `/video`.")
        return request

    def plan_for(self, request: VideoRequest, brief: Brief | None = None) -> Plan:
        options = request.options
        if brief is not None:
            options = replace(options, seconds=brief.seconds, aspect=brief.aspect)
        policy = self.policy_for(request.target)
        known = self.providers.names
        if policy.provider_order:
            order = [p for p in policy.provider_order if p in known]
        else:
            first = [policy.default_provider] if policy.default_provider in known else []
            order = first + [p for p in known if p not in first]
        if policy.allowed_providers:
            if options.provider and options.provider not in policy.allowed_providers:
                raise InvalidOptions(
                    f"This workspace allows the providers {', '.join(policy.allowed_providers)}, "
                    f"not `{options.provider}`."
                )
            order = [p for p in order if p in policy.allowed_providers]
        if not order:
            raise InvalidOptions("No video provider is allowed here; ask an admin to check the policy.")
        return self.providers.plan(options, order=order)

    async def moderate(self, target: ReplyTarget, text: str) -> ModerationResult:
        """The workspace's own rules first (free, offline), then the configured moderator."""
        policy = self.policy_for(target)
        rules = LocalRulesModerator(policy, self.patterns)
        chain = ModerationChain([rules, RealPeopleModerator(policy), self.moderator])
        return await chain.check(text)

    # ------------------------------------------------------------------ new asks

    async def open_request(
        self,
        target: ReplyTarget,
        actor: Actor,
        text: str,
        options: RenderOptions,
        *,
        event_key: str | None = None,
    ) -> VideoRequest | None:
        """Record the ask, open its thread and write the first brief.

        ``None`` when ``event_key`` shows the platform delivered this event before (a retry).
        """
        policy = self.policy_for(target)
        policy.check_can_request(actor)
        plan = self.plan_for(
            VideoRequest(id="", target=target, requester=actor.user_id, raw_text=text, options=options)
        )
        request = VideoRequest(
            id=new_id("req"),
            target=target,
            requester=actor.user_id,
            requester_name=actor.mention,
            raw_text=text,
            options=options,
        )
        # Moderate before anything is recorded or posted: if the moderator is down, nothing half-exists.
        verdict = await self.moderate(target, text)
        # One transaction before the first message: the request, its audit and the event id.
        fresh = await self.store.add_request(
            request,
            audit_for("request.received", actor.user_id, request, text=text, options=options.to_dict()),
            audit_for(
                "moderation.checked",
                "clipdesk",
                request,
                stage="ask",
                allowed=verdict.allowed,
                category=verdict.category,
                source=verdict.source,
            ),
            event_key=event_key,
        )
        if not fresh:
            log.info("ignoring a repeated delivery of event %s", event_key)
            return None
        if not verdict.allowed:
            await self._block(request, actor, verdict.category, verdict.reason, stage="ask")
            raise PromptBlocked(
                f"I can't make this video: {verdict.reason}.",
                verdict.category,
                reason=verdict.reason,
                request_id=request.id,
            )

        try:
            thread_target, _parent_ref = await self.chat.for_target(target).start_thread(
                target, views.parent_message(request)
            )
        except Exception as exc:
            # No thread, no way to show progress: close the request rather than leave it half-open.
            await self.store.move_request(
                request.id,
                [R.RECEIVED],
                R.FAILED,
                failure_reason=f"could not open a thread: {exc}",
                audit=audit_for(
                    "request.failed", "clipdesk", request, reason=f"could not open a thread: {exc}"
                ),
            )
            raise
        await self.store.set_request_refs(request.id, target=thread_target)
        request.target = thread_target
        moved = await self.store.move_request(
            request.id, [R.RECEIVED], R.REFINING, audit=audit_for("request.refining", "clipdesk", request)
        )
        assert moved is not None
        await self.refine(moved, actor, text=text, instruction=None, plan=plan)
        return await self.store.get_request(request.id)

    async def _block(
        self, request: VideoRequest, actor: Actor, category: str, reason: str, *, stage: str
    ) -> None:
        await self.store.move_request(
            request.id,
            [R.RECEIVED, R.REFINING],
            R.BLOCKED,
            failure_reason=reason,
            audit=audit_for(
                "request.blocked", actor.user_id, request, category=category, reason=reason, stage=stage
            ),
        )

    # ------------------------------------------------------------------ refining

    async def refine(
        self,
        request: VideoRequest,
        actor: Actor,
        *,
        text: str,
        instruction: str | None,
        plan: Plan | None = None,
        previous: Brief | None = None,
        moderation_waived_by: str | None = None,
    ) -> Brief | None:
        """Write the next brief version (request must be REFINING) and show it; maybe queue it.

        ``moderation_waived_by`` names the approver who allowed an appealed request; the
        brief is then not re-checked against the rule that blocked the ask.
        """
        plan = plan or self.plan_for(request, previous)
        latest = await self.store.latest_brief(request.id)
        version = (latest.version if latest else 0) + 1
        spec = self.providers.get(plan.provider).capabilities().model(plan.model)
        data = RefineInput(
            request_id=request.id,
            version=version,
            text=text,
            seconds=plan.seconds,
            aspect=plan.aspect,
            previous=previous,
            instruction=instruction,
            max_prompt_chars=spec.max_prompt_chars,
        )
        chat = self.chat.for_target(request.target)
        try:
            result = await self.refiner.refine(data)
        except Exception as exc:  # the LLM is optional: fall back, and say so
            log.warning("refiner %s failed for %s: %s", self.refiner.name, request.id, exc)
            result = await self.fallback_refiner.refine(data)
            await chat.post(
                request.target,
                views.notice("ℹ️ The AI prompt writer is unavailable right now; I wrote the brief offline."),
            )

        if isinstance(result, Clarification):
            await self.store.move_request(
                request.id,
                [R.REFINING],
                R.CLARIFYING,
                audit=audit_for("request.clarifying", "clipdesk", request, question=result.question),
            )
            await chat.post(request.target, views.clarifying_message(result.question))
            return None

        brief = result
        try:
            verdict = (
                ModerationResult(True, source=f"waived by {moderation_waived_by}")
                if moderation_waived_by
                else await self.moderate(request.target, brief.prompt)
            )
        except ModerationUnavailable as exc:
            log.error("moderation unavailable for the brief of %s: %s", request.id, exc)
            reason = "Moderation is unavailable right now, so nothing was rendered. Retry in a few minutes."
            await self.store.move_request(
                request.id,
                [R.REFINING],
                R.FAILED,
                failure_reason=reason,
                audit=audit_for("request.failed", "clipdesk", request, reason=str(exc)),
            )
            await chat.post(request.target, views.failed_message(request, reason))
            return None
        await self.store.audit(
            audit_for(
                "moderation.checked",
                "clipdesk",
                request,
                stage="brief",
                allowed=verdict.allowed,
                category=verdict.category,
                source=verdict.source,
            )
        )
        if not verdict.allowed:
            await self._block(request, actor, verdict.category, verdict.reason, stage="brief")
            await chat.post(request.target, views.blocked_message(verdict.reason, request.id))
            return None
        await self.present(request, actor, brief, plan)
        return brief

    # ------------------------------------------------------------------ queueing

    async def queue(
        self,
        request: VideoRequest,
        brief: Brief,
        plan: Plan,
        actor: Actor,
        *,
        expected: Sequence[RequestStatus],
    ) -> list[Render]:
        renders = [
            Render(
                id=new_id("rnd"),
                request_id=request.id,
                brief_id=brief.id,
                brief_version=brief.version,
                provider=plan.provider,
                model=plan.model,
                seconds=plan.seconds,
                size=plan.size,
                variant=variant,
                cost_estimate=round(plan.price_per_second * plan.seconds, 4),
            )
            for variant in range(1, plan.variants + 1)
        ]
        policy = self.policy_for(request.target)
        try:
            moved = await self._move_to_queue(request, brief, plan, actor, expected, renders, policy)
        except OverBudget as exc:
            await self.store.audit(
                audit_for(
                    "budget.refused",
                    actor.user_id,
                    request,
                    cost_estimate=plan.cost_estimate,
                    reason=exc.user_message,
                )
            )
            raise
        if moved is None:
            raise AlreadyDecided("This request is already queued or has moved on.")
        chat = self.chat.for_target(request.target)
        position = await self.store.queue_position(renders[0].id)
        ref = await chat.post(request.target, views.status_message(renders[0], position=position))
        await self.store.set_request_refs(request.id, status_message=ref)
        return renders

    async def _move_to_queue(
        self,
        request: VideoRequest,
        brief: Brief,
        plan: Plan,
        actor: Actor,
        expected: Sequence[RequestStatus],
        renders: list[Render],
        policy: Policy,
    ) -> VideoRequest | None:
        return await self.store.move_request(
            request.id,
            expected,
            R.QUEUED,
            renders=renders,
            budgets=policy.budget_limits(request.target, request.requester, self.clock.now()),
            audit=audit_for(
                "request.queued",
                actor.user_id,
                request,
                provider=plan.provider,
                model=plan.model,
                seconds=plan.seconds,
                size=plan.size,
                variants=plan.variants,
                cost_estimate=plan.cost_estimate,
                brief_version=brief.version,
            ),
        )

    async def confirm(self, request_id: str, actor: Actor) -> None:
        """The Render button: queue the latest brief."""
        request = await self.load(request_id)
        self.policy_for(request.target).check_can_steer(actor, request, "render")
        if request.status != R.AWAITING_CONFIRMATION:
            raise AlreadyDecided(already(request, "render"))
        brief = await self._latest(request)
        plan = self.plan_for(request, brief)
        await self.queue(request, brief, plan, actor, expected=[R.AWAITING_CONFIRMATION])
        await self.strip_brief_buttons(request, brief, plan)

    async def retry(self, request_id: str, actor: Actor) -> None:
        request = await self.load(request_id)
        self.policy_for(request.target).check_can_steer(actor, request, "retry")
        if request.status != R.FAILED:
            raise AlreadyDecided(already(request, "retry"))
        brief = await self.store.latest_brief(request.id)
        if brief is None:
            moved = await self.store.move_request(
                request.id, [R.FAILED], R.REFINING, audit=audit_for("request.retry", actor.user_id, request)
            )
            if moved is None:
                raise AlreadyDecided(already(request, "retry"))
            await self.refine(moved, actor, text=request.raw_text, instruction=None)
            return
        await self.queue(request, brief, self.plan_for(request, brief), actor, expected=[R.FAILED])

    async def present(
        self, request: VideoRequest, actor: Actor, brief: Brief, plan: Plan | None = None
    ) -> None:
        """Record a new brief version, show it, and queue it if it is within the auto-render limit."""
        plan = plan or self.plan_for(request, brief)
        await self.store.add_brief(
            brief,
            audit_for(
                "brief.created",
                actor.user_id,
                request,
                version=brief.version,
                refiner=brief.refiner,
                digest=brief.digest,
                note=brief.note,
            ),
        )
        auto = plan.cost_estimate <= self.policy_for(request.target).auto_render_max_cost
        if not auto:
            # Wait for the click *before* showing the Render button, so an early click finds it ready.
            await self.store.move_request(
                request.id,
                [R.REFINING],
                R.AWAITING_CONFIRMATION,
                audit=audit_for(
                    "request.awaiting_confirmation", "clipdesk", request, cost_estimate=plan.cost_estimate
                ),
            )
        chat = self.chat.for_target(request.target)
        ref = await chat.post(request.target, views.brief_message(brief, plan, request, awaiting=not auto))
        await self.store.set_request_refs(request.id, brief_message=ref)
        if auto:
            await self.queue(request, brief, plan, actor, expected=[R.REFINING])

    async def latest_ready(self, request: VideoRequest) -> Render | None:
        """The newest finished clip of a request: the one a reviewer decides on."""
        ready = [r for r in await self.store.renders_for(request.id) if r.status == RenderStatus.READY]
        return max(ready, key=lambda r: (r.brief_version, r.created_at)) if ready else None

    async def _latest(self, request: VideoRequest) -> Brief:
        brief = await self.store.latest_brief(request.id)
        if brief is None:
            raise AlreadyDecided("This request has no brief yet.")
        return brief

    async def strip_brief_buttons(self, request: VideoRequest, brief: Brief, plan: Plan) -> None:
        if request.brief_message:
            await self.chat.for_target(request.target).update(
                request.target,
                request.brief_message,
                views.brief_message(brief, plan, request, awaiting=False),
            )


def already(request: VideoRequest, verb: str) -> str:
    """What a late or second click is told."""
    state = request.status.value.replace("_", " ")
    return f"Nothing to {verb}: this request is already {state}."
