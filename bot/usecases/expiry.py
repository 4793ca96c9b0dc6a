"""Close reviews nobody decided within the workspace's ``review_expiry_hours``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.domain import ReplyTarget, RequestStatus
from bot.domain_events import about
from bot.event_payloads import ReviewExpired
from bot.policy import Policy
from bot.ports.media import Clock
from bot.ports.storage import RequestRepo, UnitOfWork
from bot.transitions import move_request

R = RequestStatus


class ExpireReviews:
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

    async def run(self) -> list[str]:
        """Expire what is overdue; return the ids of the requests expired."""
        now = self.clock.now()
        expired: list[str] = []
        for request in await self.requests.requests_in_status(R.IN_REVIEW):
            hours = self.policy_for(request.target).review_expiry_hours
            if not hours or request.updated_at + timedelta(hours=hours) > now:
                continue
            async with self.uow.transaction() as tx:
                moved = await move_request(tx, request, about(request, ReviewExpired(hours=hours), at=now))
            if moved is not None:
                expired.append(request.id)
        return expired
