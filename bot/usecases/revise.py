"""Changes to a brief: Edit prompt, Regenerate, a reply in the thread, an answer to a question.

Every change makes a new brief version; the old ones stay for the audit. An
edit applies everything the user wrote (words and options), and the request's
ask is updated so the brief shows the new ask.
"""

from __future__ import annotations

from collections.abc import Callable

from bot import texts
from bot.access import load_for
from bot.commands import AnswerQuestion, ReviseBrief, Revision
from bot.domain import Decision, ReplyTarget, RequestStatus, Review, VideoRequest
from bot.domain_events import about
from bot.errors import AlreadyDecided
from bot.event_payloads import RequestAnswered, RequestRevised, ReviewChangesRequested
from bot.planner import Planner
from bot.policy import Policy
from bot.ports.media import Clock
from bot.ports.storage import RenderQueue, RequestRepo, UnitOfWork
from bot.reviewing import latest_ready
from bot.transitions import move_request
from bot.usecases.refining import Refining

R = RequestStatus
REVISABLE = (
    R.AWAITING_CONFIRMATION,
    R.IN_REVIEW,
    R.FAILED,
    R.CHANGES_REQUESTED,
    R.CLARIFYING,
    R.EXPIRED,
)


class Revise:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        requests: RequestRepo,
        renders: RenderQueue,
        planner: Planner,
        refining: Refining,
        policy_for: Callable[[ReplyTarget], Policy],
        clock: Clock,
    ) -> None:
        self.uow = uow
        self.requests = requests
        self.renders = renders
        self.planner = planner
        self.refining = refining
        self.policy_for = policy_for
        self.clock = clock

    async def revise(self, command: ReviseBrief) -> VideoRequest:
        """Move the request back to refining with what changed, then write the next brief."""
        caller = command.caller
        request = await load_for(self.requests, caller, command.request_id)
        self.policy_for(request.target).check_can_steer(caller.actor, request, "change")
        if request.status not in REVISABLE:
            raise AlreadyDecided(texts.already(request.status.value, "change"))
        options = None
        if command.revision == Revision.EDIT and command.options is not None:
            options = command.options.merged_over(request.options)
            self.planner.plan(request.target, options)  # refuse options that cannot be made before moving
        previous = await self.requests.latest_brief(request.id)
        review = await self._changes_requested(request, command)
        cause = about(
            request,
            RequestRevised(
                revision=command.revision.value,
                text=command.text,
                instruction=command.instruction,
                options=options.to_dict() if options else None,
                previous_brief_id=previous.id if previous else None,
                script=list(command.script) if command.script is not None else None,
            ),
            caller.user_id,
            at=self.clock.now(),
        )
        async with self.uow.transaction() as tx:
            if command.revision == Revision.EDIT and command.text:
                await tx.update_ask(request.id, command.text, (options or request.options).to_dict())
            if review is not None:
                # In review → changes requested (the approver's review) → refining (the edit).
                await tx.add_review(review)
                asked = ReviewChangesRequested(
                    render_id=review.render_id,
                    brief_version=previous.version if previous else 0,
                    reviewer_name=review.reviewer_name,
                    reason=review.reason,
                )
                changes = about(
                    request, asked, caller.user_id, render_id=review.render_id, at=self.clock.now()
                )
                request = await move_request(tx, request, changes) or request
            moved = await move_request(tx, request, cause)
            if moved is None:
                raise AlreadyDecided(texts.already(request.status.value, "change"))
        await self.refining.run(request.id, cause)
        return moved

    async def _changes_requested(self, request: VideoRequest, command: ReviseBrief) -> Review | None:
        """An approver's edit of a clip in review is recorded as a "changes requested" review."""
        actor = command.caller.actor
        if (
            request.status != R.IN_REVIEW
            or command.revision not in (Revision.EDIT, Revision.SCRIPT)
            or actor.user_id == request.requester
        ):
            return None
        ready = await latest_ready(self.renders, request)
        if ready is None:
            return None
        return Review(
            request.id,
            ready.id,
            Decision.CHANGES_REQUESTED,
            actor.user_id,
            actor.mention,
            reason=command.text or command.instruction or ("script edited" if command.script else ""),
            created_at=self.clock.now(),
        )

    async def answer(self, command: AnswerQuestion) -> None:
        """A reply in a clarifying thread: fold the answer into the ask and refine again."""
        request = await load_for(self.requests, command.caller, command.request_id)
        if request.status != R.CLARIFYING:
            return
        cause = about(
            request, RequestAnswered(text=command.text), command.caller.user_id, at=self.clock.now()
        )
        async with self.uow.transaction() as tx:
            moved = await move_request(tx, request, cause)
        if moved is not None:
            await self.refining.run(request.id, cause)
