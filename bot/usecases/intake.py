"""Open a request: record the ask durably before the platform is told "on it", then check and refine it.

:meth:`Intake.accept` is the fast part an adapter awaits before acknowledging
(validation and one transaction, keyed by the platform's retry identity, so a
retried delivery finds the request it already made). :meth:`Intake.process`
does the slow part. :meth:`Intake.resume_stale` continues asks that a dead or
stopped process acknowledged but never finished.

Every ask gets its thread (the ``request.refining`` commit opens it) at once,
but only ``concurrency`` asks of a process go on to write their brief at the
same time; the rest wait their turn. All on one event loop, 200 asks refining
at once starved the later asks' first transactions and the deliveries that
open their threads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from bot import log_context, texts
from bot.ask_batch import AskBatcher
from bot.commands import Actor, OpenRequest
from bot.content import ContentCheck
from bot.domain import ReplyTarget, RequestStatus, VideoRequest, new_id
from bot.domain_events import about, event
from bot.errors import ModerationUnavailable
from bot.event_payloads import (
    ModerationChecked,
    RequestBlocked,
    RequestFailed,
    RequestReceived,
    RequestRefining,
)
from bot.openings import Openings
from bot.planner import Planner
from bot.policy import Policy
from bot.ports.media import Clock
from bot.ports.storage import IntakeQueue, RequestRepo, UnitOfWork
from bot.transitions import move_request
from bot.usecases.refining import Refining

log = logging.getLogger(__name__)
R = RequestStatus


class Intake:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        requests: RequestRepo,
        intake: IntakeQueue,
        planner: Planner,
        content: ContentCheck,
        refining: Refining,
        policy_for: Callable[[ReplyTarget], Policy],
        clock: Clock,
        concurrency: int = 8,
    ) -> None:
        if concurrency < 1:
            raise ValueError("intake concurrency must be at least 1")
        self.uow = uow
        self.asks = AskBatcher(uow)  # a burst of asks is written in a few transactions
        self.openings = Openings(uow)  # and move on to refining in a few
        self.requests = requests
        self.intake = intake
        self.planner = planner
        self.content = content
        self.refining = refining
        self.policy_for = policy_for
        self.clock = clock
        self._admitted = asyncio.Semaphore(concurrency)
        # Asks of this process that are waiting their turn or refining: the sweep leaves them be.
        self._in_hand: set[str] = set()

    async def accept(self, command: OpenRequest) -> VideoRequest | None:
        """Validate and record the ask; ``None`` when ``event_key`` shows this event was handled before.

        Raises the user's mistakes (:class:`NotAllowed`, :class:`InvalidOptions`) before anything
        is written, so bad input leaves no trace but the answer.
        """
        caller = command.caller
        self.policy_for(caller.where).check_can_request(caller.actor)
        self.planner.plan(caller.where, command.options)
        now = self.clock.now()
        where = ReplyTarget(caller.where.platform, caller.where.workspace, caller.where.channel)
        request = VideoRequest(
            id=new_id("req"),
            target=where,
            requester=caller.user_id,
            requester_name=caller.actor.mention,
            raw_text=command.text,
            options=command.options,
            created_at=now,
            updated_at=now,
        )
        received = RequestReceived(
            text=command.text, options=command.options.to_dict(), requester_name=caller.actor.mention
        )
        noted = event(received, caller.user_id, request_id=request.id, target=where, at=now)
        if not await self.asks.record(command.event_key, request, noted):
            log.info("ignoring a repeated delivery of event %s", command.event_key)
            return None
        return request

    async def process(self, request_id: str) -> None:
        """Check the ask and write its first brief; safe to call again for the same request."""
        log_context.bind(request_id=request_id)
        request = await self.requests.get_request(request_id)
        if request is None:
            return
        await self.open(request)

    async def open(self, request: VideoRequest) -> None:
        """:meth:`process` for a request in hand (the one :meth:`accept` just recorded).

        Every move is a compare-and-set, so a request another process moved meanwhile (the
        recovery sweep) is left to it.
        """
        log_context.bind(
            request_id=request.id, platform=request.target.platform, workspace=request.target.workspace
        )
        log.info("processing ask %s (%s)", request.id, request.status.value)
        if request.status == R.RECEIVED:
            await self._check(request)
        elif request.status == R.REFINING:
            await self.refining.resume(request)

    async def resume_stale(self, *, grace_seconds: float = 15.0, limit: int = 50) -> list[str]:
        """Continue asks a dead or stopped process left in received or refining; return their ids."""
        now = self.clock.now()
        stale = await self.intake.stale_intake(
            now, (R.RECEIVED, R.REFINING), now - timedelta(seconds=grace_seconds), limit
        )
        resumed: list[str] = []
        for request in stale:
            if request.id in self._in_hand:
                continue  # waiting for its turn here, not abandoned
            try:
                await self.process(request.id)
                resumed.append(request.id)
            except Exception:
                log.exception("could not resume request %s", request.id)
        if resumed:
            log.warning("resumed %d ask(s) a stopped process left behind: %s", len(resumed), resumed)
        return resumed

    async def _check(self, request: VideoRequest) -> None:
        actor = Actor(request.requester, request.requester_name)
        try:
            verdict = await self.content.check(request.target, request.raw_text)
        except ModerationUnavailable as exc:
            log.error("moderation unavailable for the ask of %s: %s", request.id, exc)
            failed = RequestFailed(reason=texts.checks_unavailable(exc))
            async with self.uow.transaction() as tx:
                await move_request(
                    tx,
                    request,
                    about(request, failed, "clipdesk", at=self.clock.now()),
                    failure_reason=failed.reason,
                )
            return
        checked = ModerationChecked(
            stage="ask", allowed=verdict.allowed, category=verdict.category, source=verdict.source
        )
        noted = about(request, checked, "clipdesk", at=self.clock.now())
        if not verdict.allowed:
            blocked = RequestBlocked(category=verdict.category, reason=verdict.reason, stage="ask")
            async with self.uow.transaction() as tx:
                await tx.record(noted)
                await move_request(
                    tx,
                    request,
                    about(request, blocked, actor.user_id, at=self.clock.now()),
                    failure_reason=verdict.reason,
                )
            return
        refining = about(request, RequestRefining(), at=self.clock.now())
        # A burst's allowed asks move together: the commits that open their threads come sooner.
        moved = await self.openings.open(request, noted, refining)
        if moved is None:
            return
        self._in_hand.add(request.id)
        try:
            async with self._admitted:
                await self.refining.run(request.id, refining)
        finally:
            self._in_hand.discard(request.id)
