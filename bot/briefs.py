"""Write the next brief version of a request that is refining, check it, and queue it or wait for a click.

Shared by the use cases that end in refining: a new ask, an answer, an edit,
a regenerate, a reply in the thread, a retry without a brief and an allowed
appeal. It posts nothing: every outcome is a state change with its event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from bot import texts
from bot.commands import Actor
from bot.content import ContentCheck
from bot.cuts import fit_shots
from bot.domain import Brief, Plan, ReplyTarget, RequestStatus, VideoRequest, new_id
from bot.domain_events import about
from bot.errors import AlreadyDecided, ModerationUnavailable, OverBudget
from bot.event_payloads import (
    BriefCreated,
    ModerationChecked,
    RequestAwaitingConfirmation,
    RequestBlocked,
    RequestClarifying,
    RequestFailed,
)
from bot.explainers import Translation, is_explainer_ask
from bot.planner import Planner
from bot.policy import Policy
from bot.ports.llm import Clarification, ModerationResult, PromptRefiner, RefineInput, ScriptTranslator
from bot.ports.media import Clock
from bot.ports.storage import RequestRepo, UnitOfWork
from bot.queueing import Queueing
from bot.refiner import OfflineRefiner
from bot.transitions import move_request

log = logging.getLogger(__name__)
R = RequestStatus


class BriefWriter:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        requests: RequestRepo,
        refiner: PromptRefiner,
        content: ContentCheck,
        planner: Planner,
        queueing: Queueing,
        policy_for: Callable[[ReplyTarget], Policy],
        clock: Clock,
        fallback: PromptRefiner | None = None,
        offline_by_setup: bool = False,
        translator: ScriptTranslator | None = None,
    ) -> None:
        self.uow = uow
        self.requests = requests
        self.refiner = refiner
        self.fallback = fallback or OfflineRefiner()
        self.content = content
        self.planner = planner
        self.queueing = queueing
        self.policy_for = policy_for
        self.clock = clock
        self.offline_by_setup = offline_by_setup  # the thread hears once that no LLM is configured
        self.translator = translator  # captions in another language; None: the script's language only

    async def write(
        self,
        request: VideoRequest,
        actor: Actor,
        *,
        text: str,
        instruction: str | None = None,
        previous: Brief | None = None,
        waived_by: str | None = None,
    ) -> Brief | None:
        """Refine ``text`` into the next brief of ``request`` (which must be refining).

        Returns the brief, or ``None`` when the request moved to clarifying, blocked or failed.
        ``waived_by`` names the approver who allowed an appealed request: the brief is then not
        checked again against the rule that blocked the ask.
        """
        plan = self.planner.plan(request.target, request.options)
        latest = await self.requests.latest_brief(request.id)
        data = RefineInput(
            request_id=request.id,
            version=(latest.version if latest else 0) + 1,
            text=text,
            seconds=plan.seconds,
            aspect=plan.aspect,
            previous=previous,
            instruction=instruction,
            max_prompt_chars=self.planner.providers.get(plan.provider)
            .capabilities()
            .model(plan.model)
            .max_prompt_chars,
            shot_seconds=plan.shot_seconds,
            explainer=is_explainer_ask(request.raw_text)
            or request.options.audience is not None
            or request.options.captions is not None
            or bool(previous and previous.explainer),
            audience=request.options.audience,
        )
        fallback = False
        try:
            result = await self.refiner.refine(data)
        except Exception as exc:  # the LLM is optional: fall back, and say so in the thread
            log.warning("refiner %s failed for %s: %s", self.refiner.name, request.id, exc)
            result = await self.fallback.refine(data)
            fallback = True
        if isinstance(result, Clarification):
            await self._move(request, RequestClarifying(question=result.question))
            return None
        brief = await self.translated(
            request, replace(fit_shots(result, plan), plan=plan, created_at=self.clock.now())
        )
        if not await self._passes_checks(request, actor, brief, waived_by):
            return None
        return await self.present(request, actor, brief, fallback=fallback)

    async def translated(self, request: VideoRequest, brief: Brief) -> Brief:
        """The brief with its script translated for captions, when another language was asked for.

        A translation that fails leaves captions in the script's language (the brief says so);
        it never stops the clip.
        """
        explainer, language = brief.explainer, request.options.captions
        if explainer is None or language in (None, "on", "burn", "off") or language == explainer.language:
            return brief
        if explainer.translation is not None and explainer.translation.language == language:
            return brief
        if self.translator is None or not any(explainer.script):
            return brief
        try:
            lines = await self.translator.translate(
                explainer.script, source=explainer.language, target=language
            )
        except Exception as exc:  # captions in the script's language are still captions
            log.warning("could not translate the script of %s to %s: %s", request.id, language, exc)
            return brief
        translation = Translation(language, lines)
        return replace(brief, explainer=replace(explainer, translation=translation))

    async def rescript(
        self, request: VideoRequest, actor: Actor, previous: Brief, script: tuple[str, ...]
    ) -> Brief | None:
        """The same pictures with the narration the teacher wrote (Edit script), checked like any prompt."""
        explainer = previous.explainer
        if explainer is None:
            return await self.write(request, actor, text=request.raw_text, previous=previous)
        brief = replace(
            previous,
            version=previous.version + 1,
            note="script edited",
            id=new_id("brf"),
            created_at=self.clock.now(),
            explainer=explainer.with_script(script),
            plan=previous.plan or self.planner.plan(request.target, request.options),
        )
        brief = await self.translated(request, brief)
        if not await self._passes_checks(request, actor, brief, None):
            return None
        return await self.present(request, actor, brief)

    async def regenerate(self, request: VideoRequest, actor: Actor, previous: Brief) -> Brief | None:
        """The same brief as a new version: a fresh attempt that keeps what the reviewer saw."""
        brief = replace(
            previous,
            version=previous.version + 1,
            note="regenerated",
            id=new_id("brf"),
            created_at=self.clock.now(),
            plan=previous.plan or self.planner.plan(request.target, request.options),
        )
        return await self.present(request, actor, brief)

    async def present(
        self, request: VideoRequest, actor: Actor, brief: Brief, *, fallback: bool = False
    ) -> Brief | None:
        """Record the brief; queue it if it is within the auto-render limit, else wait for Render."""
        plan = brief.plan
        assert plan is not None, "a brief is presented with the plan it was written for"
        auto = plan.cost_estimate <= self.policy_for(request.target).auto_render_max_cost
        created = BriefCreated(
            brief_id=brief.id,
            version=brief.version,
            refiner=brief.refiner,
            digest=brief.digest,
            note=brief.note,
            awaiting=not auto,
            fallback=fallback,
            offline_by_setup=self.offline_by_setup and brief.version == 1,
        )
        async with self.uow.transaction() as tx:
            await tx.add_brief(brief)
            await tx.record(about(request, created, actor.user_id, at=self.clock.now()))
            if not auto:
                # Wait for the click before the Render button is shown, so an early click finds it ready.
                waiting = RequestAwaitingConfirmation(brief_id=brief.id, cost_estimate=plan.cost_estimate)
                if (
                    await move_request(tx, request, about(request, waiting, "clipdesk", at=self.clock.now()))
                    is None
                ):
                    raise AlreadyDecided(texts.already(request.status.value, "change"))
        if auto:
            await self._queue_now(request, actor, brief, plan)
        return brief

    async def present_again(self, request: VideoRequest, actor: Actor, brief: Brief) -> None:
        """A brief recorded before a crash but never queued: queue it now at its stored plan."""
        plan = brief.plan or self.planner.plan(request.target, request.options)
        await self._queue_now(request, actor, brief, plan)

    async def _queue_now(self, request: VideoRequest, actor: Actor, brief: Brief, plan: Plan) -> None:
        try:
            await self.queueing.queue(request, brief, plan, actor)
        except OverBudget as refusal:
            # An auto-render nobody clicked: end the request with the refusal shown in the thread.
            await self._move(request, RequestFailed(reason=refusal.user_message), reason=refusal.user_message)

    async def _passes_checks(
        self, request: VideoRequest, actor: Actor, brief: Brief, waived_by: str | None
    ) -> bool:
        try:
            verdict = (
                ModerationResult(True, source=f"waived by {waived_by}")
                if waived_by
                else await self.content.check_brief(request.target, brief)
            )
        except ModerationUnavailable as exc:
            log.error("moderation unavailable for the brief of %s: %s", request.id, exc)
            reason = texts.checks_unavailable(exc)
            await self._move(request, RequestFailed(reason=reason), reason=reason)
            return False
        checked = ModerationChecked(
            stage="brief", allowed=verdict.allowed, category=verdict.category, source=verdict.source
        )
        async with self.uow.transaction() as tx:
            await tx.record(about(request, checked, "clipdesk", at=self.clock.now()))
            if not verdict.allowed:
                blocked = RequestBlocked(category=verdict.category, reason=verdict.reason, stage="brief")
                await move_request(
                    tx,
                    request,
                    about(request, blocked, actor.user_id, at=self.clock.now()),
                    failure_reason=verdict.reason,
                )
        return verdict.allowed

    async def _move(
        self, request: VideoRequest, payload: RequestClarifying | RequestFailed, *, reason: str | None = None
    ) -> None:
        async with self.uow.transaction() as tx:
            await move_request(
                tx, request, about(request, payload, "clipdesk", at=self.clock.now()), failure_reason=reason
            )
