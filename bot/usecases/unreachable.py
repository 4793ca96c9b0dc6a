"""When a request's thread cannot be reached for good (the bot is not in the channel), fail it clearly."""

from __future__ import annotations

import logging

from bot import texts
from bot.domain_events import about
from bot.event_kinds import REQUEST_TARGETS, EventKind
from bot.event_payloads import RequestFailed
from bot.lifecycle import can_advance_request
from bot.ports.media import Clock
from bot.ports.storage import RequestRepo, UnitOfWork
from bot.transitions import move_request

log = logging.getLogger(__name__)


class ThreadUnreachable:
    def __init__(self, *, uow: UnitOfWork, requests: RequestRepo, clock: Clock) -> None:
        self.uow = uow
        self.requests = requests
        self.clock = clock

    async def __call__(self, request_id: str, error: str) -> None:
        reason = texts.no_thread(error)
        request = await self.requests.get_request(request_id)
        failed = REQUEST_TARGETS[EventKind.REQUEST_FAILED]
        if request is None or not can_advance_request(request.status, failed):
            log.warning(
                "request %s cannot reach its thread (%s); it is %s",
                request_id,
                reason,
                request and request.status,
            )
            return
        async with self.uow.transaction() as tx:
            await move_request(
                tx,
                request,
                about(request, RequestFailed(reason=reason), at=self.clock.now()),
                failure_reason=reason,
            )
