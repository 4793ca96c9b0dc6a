"""Appeals of blocked requests: the requester asks, an approver allows or keeps the block."""

from __future__ import annotations

from collections.abc import Callable

from bot import texts
from bot.access import load_for
from bot.commands import Appeal, DecideAppeal
from bot.domain import ReplyTarget, RequestStatus, VideoRequest
from bot.domain_events import about
from bot.errors import AlreadyDecided
from bot.event_payloads import AppealAllowed, AppealDenied, RequestAppealed
from bot.policy import Policy
from bot.ports.media import Clock
from bot.ports.storage import RequestRepo, UnitOfWork
from bot.transitions import move_request
from bot.usecases.refining import Refining

R = RequestStatus


class Appeals:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        requests: RequestRepo,
        refining: Refining,
        policy_for: Callable[[ReplyTarget], Policy],
        clock: Clock,
    ) -> None:
        self.uow = uow
        self.requests = requests
        self.refining = refining
        self.policy_for = policy_for
        self.clock = clock

    async def appeal(self, command: Appeal) -> VideoRequest:
        caller = command.caller
        request = await load_for(self.requests, caller, command.request_id)
        if request.status != R.BLOCKED:
            raise AlreadyDecided(texts.NOT_BLOCKED)
        self.policy_for(request.target).check_can_steer(caller.actor, request, "appeal")
        appealed = RequestAppealed(by_name=caller.actor.mention, reason=request.failure_reason or "policy")
        async with self.uow.transaction() as tx:
            await tx.record(about(request, appealed, caller.user_id, at=self.clock.now()))
        return request

    async def decide(self, command: DecideAppeal) -> VideoRequest:
        caller = command.caller
        request = await load_for(self.requests, caller, command.request_id)
        self.policy_for(request.target).check_can_decide(caller.actor, request, "decide appeals on")
        if request.status != R.BLOCKED:
            raise AlreadyDecided(texts.APPEAL_DECIDED)
        if not command.allow:
            async with self.uow.transaction() as tx:
                denied = AppealDenied(by_name=caller.actor.mention)
                await tx.record(about(request, denied, caller.user_id, at=self.clock.now()))
            return request
        allowed = AppealAllowed(by_name=caller.actor.mention, reason=request.failure_reason)
        cause = about(request, allowed, caller.user_id, at=self.clock.now())
        async with self.uow.transaction() as tx:
            moved = await move_request(tx, request, cause)
        if moved is None:
            raise AlreadyDecided(texts.APPEAL_DECIDED)
        await self.refining.run(request.id, cause)
        return moved
