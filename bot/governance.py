"""Appeals of blocked requests and expiry of reviews nobody decided."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot import views
from bot.domain import RequestStatus, VideoRequest
from bot.errors import AlreadyDecided
from bot.events import Actor
from bot.messages import Action, Button, Message, Style
from bot.service import RequestService, audit_for

log = logging.getLogger(__name__)
R = RequestStatus


class Governance:
    def __init__(self, service: RequestService) -> None:
        self.service = service
        self.store = service.store

    async def appeal(self, request_id: str, actor: Actor) -> None:
        """The requester asks an approver to look at a blocked request."""
        request = await self.service.load(request_id)
        if request.status != R.BLOCKED:
            raise AlreadyDecided("This request is not blocked.")
        policy = self.service.policy_for(request.target)
        policy.check_can_steer(actor, request, "appeal")
        await self.store.audit(audit_for("request.appealed", actor.user_id, request))
        chat = self.service.chat.for_target(request.target)
        await chat.post(
            request.target,
            Message(
                text=f"🙋 {actor.mention} asks an approver ({policy.approver_names()}) "
                "to allow a blocked request",
                body=f"*Ask:* {request.raw_text}\n*Blocked because:* {request.failure_reason or 'policy'}",
                buttons=(
                    Button("Allow", Action.APPEAL_ALLOW, request.id, Style.PRIMARY),
                    Button("Keep blocked", Action.APPEAL_DENY, request.id, Style.DANGER),
                ),
                context="Only an approver can decide; the decision is recorded.",
            ),
        )
        await chat.notify(
            request.target,
            actor.user_id,
            Message(text="📨 Sent to the approvers. You will see their decision here."),
        )

    async def decide_appeal(
        self, request_id: str, actor: Actor, allow: bool, message_ref: str | None
    ) -> None:
        request = await self.service.load(request_id)
        policy = self.service.policy_for(request.target)
        policy.check_can_decide(actor, request, "decide appeals on")
        chat = self.service.chat.for_target(request.target)
        if not allow:
            if request.status != R.BLOCKED:
                raise AlreadyDecided(
                    f"This appeal was already decided (the request is {request.status.value})."
                )
            await self.store.audit(audit_for("appeal.denied", actor.user_id, request))
            decided = Message(text=f"⛔ Kept blocked by {actor.mention}", body=f"*Ask:* {request.raw_text}")
            await self._show(request, message_ref, decided)
            await chat.notify(
                request.target, request.requester, Message(text=f"{actor.mention} kept your request blocked.")
            )
            return
        moved = await self.store.move_request(
            request.id,
            [R.BLOCKED],
            R.REFINING,
            audit=audit_for("appeal.allowed", actor.user_id, request, reason=request.failure_reason),
        )
        if moved is None:
            raise AlreadyDecided("This appeal was already decided.")
        await self._show(
            request,
            message_ref,
            Message(
                text=f"✅ Allowed by {actor.mention}; the request continues in its own thread.",
                body=f"*Ask:* {request.raw_text}",
            ),
        )
        thread, _ = await chat.start_thread(request.target, views.parent_message(request))
        await self.store.set_request_refs(request.id, target=thread)
        moved.target = thread
        await self.service.refine(
            moved, actor, text=request.raw_text, instruction=None, moderation_waived_by=actor.user_id
        )

    async def _show(self, request: VideoRequest, ref: str | None, message: Message) -> None:
        chat = self.service.chat.for_target(request.target)
        if ref:
            await chat.update(request.target, ref, message)
        else:
            await chat.post(request.target, message)

    async def expire_reviews(self) -> list[str]:
        """Close reviews older than the workspace's ``review_expiry_hours``; tell the requester."""
        now = self.service.clock.now()
        expired: list[str] = []
        for request in await self.store.requests_in_status(R.IN_REVIEW):
            hours = self.service.policy_for(request.target).review_expiry_hours
            if not hours or request.updated_at + timedelta(hours=hours) > now:
                continue
            moved = await self.store.move_request(
                request.id,
                [R.IN_REVIEW],
                R.EXPIRED,
                audit=audit_for("review.expired", "clipdesk", request, hours=hours),
            )
            if moved is None:
                continue
            expired.append(request.id)
            try:
                await self.service.chat.for_target(request.target).post(
                    request.target,
                    Message(
                        text=f"⌛ No approver decided within {hours:g} hours, so this review has expired.",
                        body=f"{request.requester_name or request.requester}: press Regenerate or "
                        "Edit prompt on the clip to start a new review.",
                    ),
                )
            except Exception as exc:  # the state is recorded; the notice is best-effort
                log.warning("could not tell %s about the expired review: %s", request.id, exc)
        return expired
