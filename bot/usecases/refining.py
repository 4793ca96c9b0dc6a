"""Turn a request that is refining into its next brief, under a lease, and resume what a dead process left.

Every way into refining records an event that says everything needed to write
the brief (the ask, an edit, an answer, a reply, a regenerate, an allowed
appeal). :meth:`Refining.run` acts on that event under the request's intake
lease; :meth:`Refining.resume` continues a request a crashed process left in
``refining`` from its last such event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from bot.briefs import BriefWriter
from bot.commands import Actor
from bot.domain import RequestStatus, VideoRequest
from bot.domain_events import DomainEvent
from bot.event_kinds import EventKind
from bot.event_payloads import AppealAllowed, RequestAnswered, RequestRevised
from bot.ports.media import Clock
from bot.ports.storage import AuditLog, IntakeQueue, RequestRepo

log = logging.getLogger(__name__)
R = RequestStatus
K = EventKind

# Events that put a request into refining and say what to write.
CAUSES = frozenset(
    {K.REQUEST_REFINING, K.REQUEST_REVISED, K.REQUEST_ANSWERED, K.REQUEST_RETRIED, K.APPEAL_ALLOWED}
)


class Refining:
    def __init__(
        self,
        *,
        writer: BriefWriter,
        requests: RequestRepo,
        intake: IntakeQueue,
        audit: AuditLog,
        clock: Clock,
        owner: str,
        lease_seconds: float = 60.0,
    ) -> None:
        self.writer = writer
        self.requests = requests
        self.intake = intake
        self.audit = audit
        self.clock = clock
        self.owner = owner
        self.lease_seconds = lease_seconds

    async def run(self, request_id: str, cause: DomainEvent) -> None:
        """Write the brief ``cause`` asks for, unless another process is already doing it."""
        async with self._leased(request_id) as held:
            if not held:
                return
            request = await self.requests.get_request(request_id)
            if request is None or request.status != R.REFINING:
                return
            await self._continue(request, cause)

    async def _continue(self, request: VideoRequest, cause: DomainEvent) -> None:
        actor = Actor(cause.actor)
        payload = cause.payload
        previous = await self.requests.latest_brief(request.id)
        if previous is not None and previous.created_at >= cause.at:
            # The brief was written before a crash; only the auto-render step was lost.
            await self.writer.present_again(request, actor, previous)
            return
        if isinstance(payload, RequestRevised):
            if payload.revision == "regenerate" and previous is not None:
                await self.writer.regenerate(request, actor, previous)
                return
            if payload.revision == "script" and previous is not None and payload.script is not None:
                await self.writer.rescript(request, actor, previous, tuple(payload.script))
                return
            await self.writer.write(
                request,
                actor,
                text=request.raw_text,
                instruction=payload.instruction,
                previous=previous,
            )
        elif isinstance(payload, RequestAnswered):
            await self.writer.write(request, actor, text=f"{request.raw_text} {payload.text}".strip())
        elif isinstance(payload, AppealAllowed):
            await self.writer.write(request, actor, text=request.raw_text, waived_by=cause.actor)
        else:
            await self.writer.write(request, actor, text=request.raw_text)

    async def resume(self, request: VideoRequest) -> None:
        """Continue a request a dead process left in refining, from its last refining event."""
        cause = await self._last_cause(request.id)
        if cause is not None:
            await self.run(request.id, cause)

    async def _last_cause(self, request_id: str) -> DomainEvent | None:
        causes = [e for e in await self.audit.audit_events(request_id=request_id) if e.kind in CAUSES]
        return causes[-1] if causes else None

    @contextlib.asynccontextmanager
    async def _leased(self, request_id: str) -> AsyncIterator[bool]:
        """Hold the intake lease of a request, renewed while the work runs."""
        until = self.clock.now() + timedelta(seconds=self.lease_seconds)
        if not await self.intake.lease_intake(request_id, self.owner, until):
            yield False
            return
        renew = asyncio.create_task(self._renew(request_id))
        try:
            yield True
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew
            await self.intake.release_intake(request_id, self.owner)

    async def _renew(self, request_id: str) -> None:
        while True:
            await asyncio.sleep(max(self.lease_seconds / 3, 0.05))
            until = self.clock.now() + timedelta(seconds=self.lease_seconds)
            if not await self.intake.lease_intake(request_id, self.owner, until):
                log.warning("lost the intake lease on %s", request_id)
                return
