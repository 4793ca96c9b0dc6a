"""Re-render one shot of a cut: one new provider job, the other shots' files reused, cut v2 reviewed.

From a cut in review (or a cut that failed because of a shot), the requester or an approver
picks a shot: it is rendered again with a new take number (so a new seed), optionally with new
words for it (a new brief version that changes only that shot). The next cut version lists
the other shots' renders as they are; its stitcher waits for the new shot alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot import texts
from bot.access import load_for
from bot.commands import Caller, MakeFinal, RerenderShot
from bot.cuts import WAITING, Cut, CutShot, plan_cut, shot_seed
from bot.domain import Brief, Render, RenderStatus, ReplyTarget, RequestStatus, VideoRequest, new_id
from bot.domain_events import about
from bot.errors import AlreadyDecided, InvalidOptions, OverBudget
from bot.event_payloads import BriefCreated, BudgetRefused, FinalQueued, ShotRerender
from bot.planner import Planner
from bot.policy import Policy
from bot.ports.media import Clock
from bot.ports.storage import CutRepo, RenderQueue, RequestRepo, UnitOfWork
from bot.queueing import check_budgets
from bot.text_input import clean_text
from bot.transitions import move_request

R = RequestStatus
RERENDERABLE = (R.IN_REVIEW, R.FAILED)


@dataclass(frozen=True)
class Rerendered:
    request: VideoRequest
    cut: Cut
    render: Render  # the one new shot render


class Shots:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        requests: RequestRepo,
        renders: RenderQueue,
        cuts: CutRepo,
        policy_for: Callable[[ReplyTarget], Policy],
        clock: Clock,
        planner: Planner | None = None,
    ) -> None:
        self.uow = uow
        self.requests = requests
        self.renders = renders
        self.cuts = cuts
        self.planner = planner
        self.policy_for = policy_for
        self.clock = clock

    async def latest_cut(self, request: VideoRequest) -> Cut:
        cut = await self.cuts.latest_cut(request.id)
        if cut is None:
            raise InvalidOptions(texts.NOT_A_CUT)
        return cut

    async def rerender(self, command: RerenderShot) -> Rerendered:
        """Queue cut v(n+1) of ``command.request_id`` with one shot rendered again."""
        caller = command.caller
        request = await load_for(self.requests, caller, command.request_id)
        policy = self.policy_for(request.target)
        policy.check_can_steer(caller.actor, request, "regenerate a shot of")
        if request.status not in RERENDERABLE:
            raise AlreadyDecided(texts.already(request.status.value, "regenerate a shot of"))
        cut = await self.latest_cut(request)
        index = await self._shot_number(cut, command)
        old = await self.renders.get_render(cut.shot(index).render_id)
        brief = await self.requests.get_brief(cut.brief_id)
        assert old is not None and brief is not None
        words = clean_text(command.text, what="shot") if command.text else None
        latest = await self.requests.latest_brief(request.id)
        version = (latest.version if latest else brief.version) + 1
        edited = _with_shot_text(brief, version, index, words, self.clock.now()) if words else None
        made_for = edited or brief
        now = self.clock.now()
        cut_id = new_id("cut")
        take = old.variant + 1  # a new take: a new seed, so a deterministic provider makes a new job
        again = replace(
            old,
            id=new_id("rnd"),
            brief_id=made_for.id,
            brief_version=made_for.version,
            cut_id=cut_id,
            variant=take,
            **_fresh(now),
            cost_estimate=round(old.price_per_second * old.seconds, 4),
        )
        stitcher = replace(
            again,
            id=new_id("rnd"),
            shot=None,
            variant=1,
            seconds=cut.seconds,
            cost_estimate=0.0,
            **_fresh(now),
        )
        stitcher.next_attempt_at = WAITING
        shots = tuple(
            CutShot(s.index, again.id, s.seconds, shot_seed(made_for.id, index, take), s.continues)
            if s.index == index
            else replace(s, reused=True)
            for s in cut.shots
        )
        new_cut = Cut(
            request_id=request.id,
            brief_id=made_for.id,
            version=cut.version + 1,
            render_id=stitcher.id,
            shots=shots,
            draft=cut.draft,
            crossfade=cut.crossfade,
            id=cut_id,
            created_at=now,
        )
        queued = ShotRerender(
            cut_id=cut_id,
            version=new_cut.version,
            shot=index,
            render_ids=[again.id, stitcher.id],
            cost_estimate=again.cost_estimate,
            edited=edited is not None,
        )
        limits = policy.budget_limits(request.target, request.requester, now)
        try:
            async with self.uow.transaction() as tx:
                await check_budgets(tx, limits, again.cost_estimate)
                if edited is not None:
                    await tx.add_brief(edited)
                    created = BriefCreated(
                        brief_id=edited.id,
                        version=edited.version,
                        refiner=edited.refiner,
                        digest=edited.digest,
                        note=edited.note,
                        awaiting=False,
                    )
                    await tx.record(about(request, created, caller.user_id, at=now))
                await tx.add_renders(request, [again, stitcher])
                await tx.add_cut(new_cut)
                moved = await move_request(tx, request, about(request, queued, caller.user_id, at=now))
                if moved is None:
                    raise AlreadyDecided(texts.already(request.status.value, "regenerate a shot of"))
        except OverBudget as refusal:
            async with self.uow.transaction() as tx:
                refused = BudgetRefused(
                    cost_estimate=again.cost_estimate,
                    scope=refusal.scope,
                    limit=refusal.limit,
                    spent=refusal.spent,
                )
                await tx.record(about(request, refused, caller.user_id, at=now))
            raise
        return Rerendered(moved, new_cut, again)

    async def make_final(self, command: MakeFinal) -> Rerendered:
        """Render a draft cut's shots again at the final tier: same brief, same seeds, cut v(n+1).

        Spending money on a final is an approver's decision; both costs were shown with the brief.
        """
        caller = command.caller
        request = await load_for(self.requests, caller, command.request_id)
        policy = self.policy_for(request.target)
        if request.status != R.IN_REVIEW:
            raise AlreadyDecided(texts.already(request.status.value, "make the final of"))
        cut = await self.latest_cut(request)
        brief = await self.requests.get_brief(cut.brief_id)
        assert brief is not None
        if not cut.draft or brief.plan is None:
            raise InvalidOptions(texts.NOT_A_DRAFT)
        if self.planner is None:
            raise InvalidOptions(texts.NO_FINAL)
        final = self.planner.final_for(request.target, request.options, brief.plan)
        if final is None:
            raise InvalidOptions(texts.NO_FINAL)
        if final.cost_estimate > 0:
            policy.check_can_decide(caller.actor, request, "make final")
        else:
            policy.check_can_steer(caller.actor, request, "make final")
        final = replace(final, shot_seconds=final.shot_seconds or (final.seconds,), draft=False)
        now = self.clock.now()
        new_cut, renders = plan_cut(request, brief, final, now, version=cut.version + 1)
        new_cut = replace(new_cut, draft=False, crossfade=cut.crossfade)
        draft_cost = sum(
            (r.cost_actual if r.cost_actual is not None else r.cost_estimate)
            for r in await self.renders.renders_for(request.id)
            if r.cut_id == cut.id
        )
        queued = FinalQueued(
            cut_id=new_cut.id,
            version=new_cut.version,
            provider=final.provider,
            model=final.model,
            cost_estimate=final.cost_estimate,
            draft_cost=round(draft_cost, 4),
            render_ids=[r.id for r in renders],
        )
        limits = policy.budget_limits(request.target, request.requester, now)
        async with self.uow.transaction() as tx:
            await check_budgets(tx, limits, final.cost_estimate)
            await tx.add_renders(request, renders)
            await tx.add_cut(new_cut)
            moved = await move_request(tx, request, about(request, queued, caller.user_id, at=now))
            if moved is None:
                raise AlreadyDecided(texts.already(request.status.value, "make the final of"))
        return Rerendered(moved, new_cut, renders[0])

    async def edit_draft(
        self, caller: Caller, request_id: str, shot_render_id: str | None
    ) -> tuple[VideoRequest, int, str]:
        """What Edit shot opens with: the shot's number and words, if the caller may change it."""
        request = await load_for(self.requests, caller, request_id)
        self.policy_for(request.target).check_can_steer(caller.actor, request, "edit a shot of")
        cut = await self.latest_cut(request)
        index = await self._shot_number(cut, RerenderShot(caller, request_id, shot_render_id=shot_render_id))
        brief = await self.requests.get_brief(cut.brief_id)
        words = next((s.description for s in brief.shots if s.index == index), "") if brief else ""
        return request, index, words

    async def _shot_number(self, cut: Cut, command: RerenderShot) -> int:
        if command.shot is not None:
            return cut.shot(command.shot).index
        for shot in cut.shots:
            if shot.render_id == command.shot_render_id:
                return shot.index
        raise AlreadyDecided(texts.OLDER_CUT)  # a picker of an older cut version


def _fresh(now: datetime) -> dict[str, Any]:
    """The fields of a new render that start empty (a copy of a finished one keeps none of its run)."""
    return {
        "status": RenderStatus.QUEUED,
        "remote_id": None,
        "attempts": 0,
        "progress": 0,
        "lease_owner": None,
        "lease_expires_at": None,
        "next_attempt_at": None,
        "cost_actual": None,
        "clip_path": None,
        "qc_findings": [],
        "provenance_digest": None,
        "failure_reason": None,
        "submit_intent_at": None,
        "submit_key": None,
        "submitted_at": None,
        "uncertain": False,
        "created_at": now,
        "updated_at": now,
    }


def _with_shot_text(brief: Brief, version: int, index: int, words: str, now: datetime) -> Brief:
    """The next brief version: the same brief with shot ``index`` described by ``words``."""
    shots = tuple(replace(s, description=words) if s.index == index else s for s in brief.shots)
    return replace(
        brief,
        shots=shots,
        version=version,
        note=texts.shot_edited(index),
        id=new_id("brf"),
        created_at=now,
    )
