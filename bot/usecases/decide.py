"""Review decisions: approve or reject one clip version, by an approver, once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot import texts
from bot.access import load_for
from bot.commands import Decide
from bot.domain import Brief, Decision, Render, ReplyTarget, RequestStatus, Review, VideoRequest
from bot.domain_events import about
from bot.errors import AlreadyDecided, InvalidOptions
from bot.event_payloads import ReviewApproved, ReviewRejected
from bot.policy import Policy
from bot.ports.media import Clock
from bot.ports.storage import CutRepo, RenderQueue, RequestRepo, UnitOfWork
from bot.reviewing import render_to_decide
from bot.transitions import move_request

R = RequestStatus


@dataclass(frozen=True)
class Decided:
    request: VideoRequest
    render: Render
    brief: Brief
    decision: Decision


class Decisions:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        requests: RequestRepo,
        renders: RenderQueue,
        policy_for: Callable[[ReplyTarget], Policy],
        clock: Clock,
        cuts: CutRepo | None = None,
    ) -> None:
        self.uow = uow
        self.cuts = cuts
        self.requests = requests
        self.renders = renders
        self.policy_for = policy_for
        self.clock = clock

    async def decide(self, command: Decide) -> Decided:
        caller = command.caller
        request = await load_for(self.requests, caller, command.request_id)
        verb = "approve" if command.decision == Decision.APPROVED else "reject"
        self.policy_for(request.target).check_can_decide(caller.actor, request, verb)
        reason = command.reason.strip()
        if command.decision == Decision.REJECTED and not reason:
            raise InvalidOptions(texts.REASON_NEEDED)
        render = await render_to_decide(self.renders, request, command.render_id)
        if command.decision == Decision.APPROVED and await self._is_draft(render):
            # Whatever way in (button, console, API, review page): a draft is a preview to react to.
            raise InvalidOptions(texts.A_DRAFT_IS_NOT_APPROVED)
        now = self.clock.now()
        review = Review(
            request.id,
            render.id,
            command.decision,
            caller.user_id,
            caller.actor.mention,
            reason,
            created_at=now,
        )
        kind = ReviewApproved if command.decision == Decision.APPROVED else ReviewRejected
        payload = kind(
            render_id=render.id,
            brief_version=render.brief_version,
            reviewer_name=caller.actor.mention,
            reason=reason,
        )
        try:
            async with self.uow.transaction() as tx:
                await tx.add_review(review)
                moved = await move_request(
                    tx, request, about(request, payload, caller.user_id, render_id=render.id, at=now)
                )
                if moved is None:
                    raise _Lost  # roll the review back: someone decided first
        except _Lost:
            latest = await self.requests.get_request(request.id)
            raise AlreadyDecided(texts.already((latest or request).status.value, verb)) from None
        brief = await self.requests.get_brief(render.brief_id)
        assert brief is not None
        return Decided(moved, render, brief, command.decision)

    async def _is_draft(self, render: Render) -> bool:
        if render.cut_id is None or self.cuts is None:
            return False
        cut = await self.cuts.get_cut(render.cut_id)
        return cut is not None and cut.draft


class _Lost(Exception):
    """The compare-and-set lost to a concurrent decision."""
