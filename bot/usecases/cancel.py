"""Cancel a request before it renders (or after a failure or a change request)."""

from __future__ import annotations

from collections.abc import Callable

from bot import texts
from bot.access import load_for
from bot.commands import Caller, CancelRequest
from bot.domain import ReplyTarget, RequestStatus, VideoRequest
from bot.domain_events import about
from bot.errors import AlreadyDecided, UnknownRequest
from bot.event_payloads import RequestCancelled
from bot.policy import Policy
from bot.ports.media import Clock
from bot.ports.storage import RequestRepo, UnitOfWork
from bot.transitions import move_request

R = RequestStatus
CANCELLABLE = frozenset(
    {
        R.RECEIVED,
        R.REFINING,
        R.CLARIFYING,
        R.AWAITING_CONFIRMATION,
        R.QUEUED,
        R.CHANGES_REQUESTED,
        R.FAILED,
    }
)


class Cancel:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        requests: RequestRepo,
        policy_for: Callable[[ReplyTarget], Policy],
        clock: Clock,
    ) -> None:
        self.uow = uow
        self.requests = requests
        self.policy_for = policy_for
        self.clock = clock

    async def cancel(self, command: CancelRequest) -> VideoRequest:
        caller = command.caller
        request = await load_for(self.requests, caller, command.request_id)
        self.policy_for(request.target).check_can_steer(caller.actor, request, "cancel")
        if request.status not in CANCELLABLE:
            raise AlreadyDecided(texts.already(request.status.value, "cancel"))
        cancelled = about(
            request, RequestCancelled(by_name=caller.actor.mention), caller.user_id, at=self.clock.now()
        )
        async with self.uow.transaction() as tx:
            moved = await move_request(tx, request, cancelled)
        if moved is None:
            raise AlreadyDecided(texts.already(request.status.value, "cancel"))
        return moved

    async def cancel_latest(self, caller: Caller) -> VideoRequest:
        """``/video cancel``: the caller's newest request that can still be cancelled."""
        where = caller.where
        mine = await self.requests.open_requests(where.platform, where.workspace, caller.user_id)
        cancellable = [r for r in mine if r.status in CANCELLABLE]
        if not cancellable:
            raise UnknownRequest(texts.NOTHING_TO_CANCEL)
        return await self.cancel(CancelRequest(caller, cancellable[-1].id))
