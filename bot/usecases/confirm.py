"""Start a render: the Render button on a brief, and Retry on a failed request."""

from __future__ import annotations

from collections.abc import Callable

from bot import texts
from bot.access import latest_brief, load_for
from bot.commands import ConfirmRender, RetryRequest
from bot.domain import Brief, Plan, Render, ReplyTarget, RequestStatus, VideoRequest
from bot.domain_events import about
from bot.errors import AlreadyDecided, InvalidOptions, NotAllowed
from bot.event_payloads import RequestRetried
from bot.planner import Planner
from bot.policy import Policy
from bot.ports.media import Clock
from bot.ports.storage import RenderQueue, RequestRepo, UnitOfWork
from bot.queueing import Queueing
from bot.transitions import move_request
from bot.usecases.refining import Refining

R = RequestStatus


class Confirm:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        requests: RequestRepo,
        renders: RenderQueue,
        planner: Planner,
        queueing: Queueing,
        refining: Refining,
        policy_for: Callable[[ReplyTarget], Policy],
        clock: Clock,
    ) -> None:
        self.uow = uow
        self.requests = requests
        self.renders = renders
        self.planner = planner
        self.queueing = queueing
        self.refining = refining
        self.policy_for = policy_for
        self.clock = clock

    async def confirm(self, command: ConfirmRender) -> list[Render]:
        """Queue the latest brief at the plan it was shown with."""
        request = await load_for(self.requests, command.caller, command.request_id)
        self.policy_for(request.target).check_can_steer(command.caller.actor, request, "render")
        if request.status != R.AWAITING_CONFIRMATION:
            raise AlreadyDecided(texts.already(request.status.value, "render"))
        brief = await latest_brief(self.requests, request)
        return await self.queueing.queue(request, brief, self._plan(request, brief), command.caller.actor)

    async def retry(self, command: RetryRequest) -> list[Render]:
        """A new render of the latest brief, or a new brief if there is none yet."""
        caller = command.caller
        request = await load_for(self.requests, caller, command.request_id)
        policy = self.policy_for(request.target)
        policy.check_can_steer(caller.actor, request, "retry")
        if request.status != R.FAILED:
            raise AlreadyDecided(texts.already(request.status.value, "retry"))
        if await self._was_uncertain(request) and not policy.is_approver(caller.actor):
            # A job may already have been paid for: paying again is an approver's call.
            raise NotAllowed(texts.approvers_only(policy.approver_names(), "retry uncertain"))
        brief = await self.requests.latest_brief(request.id)
        if brief is None:
            cause = about(request, RequestRetried(), caller.user_id, at=self.clock.now())
            async with self.uow.transaction() as tx:
                if await move_request(tx, request, cause) is None:
                    raise AlreadyDecided(texts.already(request.status.value, "retry"))
            await self.refining.run(request.id, cause)
            return []
        return await self.queueing.queue(request, brief, self._plan(request, brief), caller.actor, retry=True)

    def _plan(self, request: VideoRequest, brief: Brief) -> Plan:
        """The stored plan, unless the workspace's policy no longer allows its provider."""
        plan = brief.plan
        if plan is None:
            return self.planner.plan(request.target, request.options)
        if plan.provider not in self.planner.order_for(request.target) and not plan.pinned:
            try:
                return self.planner.plan(request.target, request.options)
            except InvalidOptions:
                return plan
        return plan

    async def _was_uncertain(self, request: VideoRequest) -> bool:
        return any(r.uncertain for r in await self.renders.renders_for(request.id))
