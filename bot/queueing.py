"""Queue a brief: a render per variant at the stored plan, checked against every budget in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot import texts
from bot.commands import Actor
from bot.cuts import Cut, plan_cut
from bot.domain import Brief, Plan, Render, ReplyTarget, VideoRequest, new_id
from bot.domain_events import event
from bot.errors import AlreadyDecided, InvalidOptions, OverBudget
from bot.event_payloads import BudgetRefused, RequestQueued
from bot.policy import Policy
from bot.ports.media import Clock
from bot.ports.storage import BudgetLimit, CutRepo, Tx, UnitOfWork
from bot.transitions import move_request


class Queueing:
    def __init__(
        self,
        uow: UnitOfWork,
        policy_for: Callable[[ReplyTarget], Policy],
        clock: Clock,
        cuts: CutRepo | None = None,
    ) -> None:
        self.uow = uow
        self.cuts = cuts
        self.policy_for = policy_for
        self.clock = clock

    async def queue(
        self, request: VideoRequest, brief: Brief, plan: Plan, actor: Actor, *, retry: bool = False
    ) -> list[Render]:
        """Move ``request`` (in the state it was read in) to QUEUED with its renders.

        Raises :class:`OverBudget` (after auditing the refusal) when a budget would be exceeded,
        and :class:`AlreadyDecided` when the request moved on meanwhile.
        """
        now = self.clock.now()
        cut: Cut | None = None
        if plan.is_cut:
            if plan.variants > 1:
                raise InvalidOptions(texts.VARIANT_CUTS)
            version = await self._next_cut_version(request)
            cut, renders = plan_cut(request, brief, plan, now, version=version)
        else:
            renders = self._renders(request, brief, plan, now)
        limits = self.policy_for(request.target).budget_limits(request.target, request.requester, now)
        try:
            async with self.uow.transaction() as tx:
                await check_budgets(tx, limits, plan.cost_estimate)
                await tx.add_renders(request, renders)
                if cut is not None:
                    await tx.add_cut(cut)
                queued = RequestQueued(
                    brief_id=brief.id,
                    brief_version=brief.version,
                    provider=plan.provider,
                    model=plan.model,
                    seconds=plan.seconds,
                    size=plan.size,
                    variants=plan.variants,
                    cost_estimate=plan.cost_estimate,
                    render_ids=[r.id for r in renders],
                    retry=retry,
                )
                moved = await move_request(
                    tx, request, event(queued, actor.user_id, request_id=request.id, target=request.target)
                )
                if moved is None:
                    raise AlreadyDecided(texts.already(request.status.value, "render"))
        except OverBudget as refusal:
            async with self.uow.transaction() as tx:
                refused = BudgetRefused(
                    cost_estimate=plan.cost_estimate,
                    scope=refusal.scope,
                    limit=refusal.limit,
                    spent=refusal.spent,
                )
                await tx.record(event(refused, actor.user_id, request_id=request.id, target=request.target))
            raise
        return renders

    async def _next_cut_version(self, request: VideoRequest) -> int:
        latest = await self.cuts.latest_cut(request.id) if self.cuts is not None else None
        return latest.version + 1 if latest else 1

    @staticmethod
    def _renders(request: VideoRequest, brief: Brief, plan: Plan, now: datetime) -> list[Render]:
        """One render per variant of a single-clip plan."""
        return [
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
                cost_estimate=plan.cost_per_render,
                price_per_second=plan.price_per_second,
                quality=plan.quality,
                pinned=plan.pinned,
                created_at=now,
                updated_at=now,
            )
            for variant in range(1, plan.variants + 1)
        ]


async def check_budgets(tx: Tx, limits: list[BudgetLimit], adding: float) -> None:
    for limit in sorted(limits, key=lambda b: b.key):  # one lock order, so checks never deadlock
        spent = await tx.spent(limit, lock=True)
        if spent + adding > limit.limit + 1e-9:
            left = max(limit.limit - spent, 0.0)
            raise OverBudget(
                texts.over_budget(adding, limit.scope, left, limit.limit),
                scope=limit.scope,
                limit=limit.limit,
                spent=spent,
                adding=adding,
            )
