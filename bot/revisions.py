"""Changes to a request: Edit prompt, Regenerate, a reply in the thread, an answer, Cancel."""

from __future__ import annotations

from dataclasses import replace

from bot import views
from bot.domain import Decision, RequestStatus, Review, VideoRequest, new_id
from bot.errors import AlreadyDecided
from bot.events import Actor
from bot.service import RequestService, already, audit_for

R = RequestStatus


class Revisions:
    """Every change makes a new brief version; the old ones stay for the audit."""

    def __init__(self, service: RequestService) -> None:
        self.service = service
        self.store = service.store

    async def revise(
        self, request_id: str, actor: Actor, *, text: str | None, instruction: str | None, kind: str
    ) -> None:
        """Edit prompt, Regenerate or a reply in the thread: a new brief version."""
        request = await self.service.load(request_id)
        policy = self.service.policy_for(request.target)
        policy.check_can_steer(actor, request, "change")
        allowed = [
            R.AWAITING_CONFIRMATION,
            R.IN_REVIEW,
            R.FAILED,
            R.CHANGES_REQUESTED,
            R.CLARIFYING,
            R.EXPIRED,
        ]
        if request.status not in allowed:
            raise AlreadyDecided(already(request, "change"))
        previous = await self.store.latest_brief(request.id)
        review = None
        if request.status == R.IN_REVIEW and kind == "edit" and actor.user_id != request.requester:
            ready = await self.service.latest_ready(request)
            if ready is not None:
                review = Review(
                    request.id,
                    ready.id,
                    Decision.CHANGES_REQUESTED,
                    actor.user_id,
                    actor.mention,
                    reason=text or instruction or "",
                )
        moved = await self.store.move_request(
            request.id,
            [request.status],
            R.REFINING,
            review=review,
            audit=audit_for(f"request.{kind}", actor.user_id, request, text=text, instruction=instruction),
        )
        if moved is None:
            raise AlreadyDecided(already(request, "change"))
        if previous is not None and request.brief_message and request.status == R.AWAITING_CONFIRMATION:
            await self.service.strip_brief_buttons(
                request, previous, self.service.plan_for(request, previous)
            )
        if kind == "regenerate" and previous is not None:
            # Same brief, new version: a fresh attempt that keeps what the reviewer saw.
            brief = replace(
                previous,
                version=previous.version + 1,
                note="regenerated",
                id=new_id("brf"),
                created_at=self.service.clock.now(),
            )
            await self.service.present(moved, actor, brief)
            return
        base = text if text is not None else request.raw_text
        await self.service.refine(moved, actor, text=base, instruction=instruction, previous=previous)

    async def answer(self, request: VideoRequest, actor: Actor, text: str) -> None:
        """A reply in a clarifying thread: fold the answer into the ask and refine again."""
        moved = await self.store.move_request(
            request.id,
            [R.CLARIFYING],
            R.REFINING,
            audit=audit_for("request.answered", actor.user_id, request, text=text),
        )
        if moved is None:
            return
        await self.service.refine(moved, actor, text=f"{request.raw_text} {text}".strip(), instruction=None)

    async def cancel(self, request_id: str, actor: Actor) -> None:
        request = await self.service.load(request_id)
        self.service.policy_for(request.target).check_can_steer(actor, request, "cancel")
        cancellable = [
            R.RECEIVED,
            R.REFINING,
            R.CLARIFYING,
            R.AWAITING_CONFIRMATION,
            R.QUEUED,
            R.CHANGES_REQUESTED,
            R.FAILED,
        ]
        moved = await self.store.move_request(
            request.id,
            cancellable,
            R.CANCELLED,
            audit=audit_for("request.cancelled", actor.user_id, request),
        )
        if moved is None:
            raise AlreadyDecided(already(request, "cancel"))
        brief = await self.store.latest_brief(request.id)
        if brief is not None and request.status == R.AWAITING_CONFIRMATION:
            await self.service.strip_brief_buttons(request, brief, self.service.plan_for(request, brief))
        await self.service.chat.for_target(request.target).post(
            request.target, views.notice(f"🚫 Cancelled by {actor.mention}. Nothing more will be rendered.")
        )
