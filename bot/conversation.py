"""Turn chat events into request-service calls, and every error into a clear answer.

Adapters call :meth:`Conversation.handle` after they have acknowledged the
platform; nothing here needs to be fast enough for a 3-second deadline.
"""

from __future__ import annotations

import logging

from bot import views
from bot.domain import Decision, ReplyTarget, RequestStatus, VideoRequest
from bot.errors import AlreadyDecided, ModerationUnavailable, PromptBlocked, UnknownRequest, UserError
from bot.events import Actor, ButtonPressed, ChatEvent, FormSubmitted, ThreadReply, VideoCommand
from bot.governance import Governance
from bot.lifecycle import OPEN_REQUEST_STATES
from bot.messages import Action, Message
from bot.options import parse_ask
from bot.policy import budget_key, month_start
from bot.review import Reviews
from bot.revisions import Revisions
from bot.service import RequestService

log = logging.getLogger(__name__)

SUBCOMMANDS = {"help", "status", "usage", "cancel"}


class Conversation:
    def __init__(self, service: RequestService) -> None:
        self.service = service
        self.governance = Governance(service)
        self.reviews = Reviews(service)
        self.revisions = Revisions(service)
        self.store = service.store
        self.chat = service.chat

    async def handle(self, event: ChatEvent) -> None:
        """Apply one event. User mistakes become a notice; our own failures are logged and shown."""
        try:
            await self._dispatch(event)
        except PromptBlocked as exc:
            await self._notify(event.target, event.actor, views.blocked_message(exc.reason, exc.request_id))
        except ModerationUnavailable as exc:
            log.error("moderation unavailable: %s", exc)
            await self._tell(
                event.target,
                event.actor,
                "⚠️ Content checks are unavailable right now, so nothing was made or charged. "
                "Please try again in a few minutes.",
            )
        except UserError as exc:
            await self._tell(event.target, event.actor, exc.user_message)
        except Exception:
            log.exception(
                "failed to handle %s from %s in %s", type(event).__name__, event.actor.user_id, event.target
            )
            await self._tell(
                event.target,
                event.actor,
                "⚠️ Something went wrong on our side and it was logged. Nothing was charged — retry?",
            )

    async def _tell(self, target: ReplyTarget, actor: Actor, text: str) -> None:
        await self._notify(target, actor, Message(text=text))

    async def _notify(self, target: ReplyTarget, actor: Actor, message: Message) -> None:
        try:
            await self.chat.for_target(target).notify(target, actor.user_id, message)
        except Exception:
            log.exception("could not tell %s: %s", actor.user_id, message.text)

    async def _dispatch(self, event: ChatEvent) -> None:
        if isinstance(event, VideoCommand):
            await self._command(event)
        elif isinstance(event, ButtonPressed):
            await self._button(event)
        elif isinstance(event, FormSubmitted):
            await self._form(event)
        elif isinstance(event, ThreadReply):
            await self._reply(event)

    # ------------------------------------------------------------------ /video

    async def _command(self, event: VideoCommand) -> None:
        key = f"{event.target.platform}:{event.event_id}"
        word = event.text.strip().lower()
        if word in SUBCOMMANDS:
            if await self.store.remember_event(key):
                await getattr(self, f"_cmd_{word}")(event)
            return
        ask = parse_ask(event.text)
        # The event id is remembered with the new request, so a platform's retry makes no second one.
        await self.service.open_request(event.target, event.actor, ask.text, ask.options, event_key=key)

    async def _cmd_help(self, event: VideoCommand) -> None:
        await self.chat.for_target(event.target).notify(
            event.target, event.actor.user_id, Message(text="How to use clipdesk", body=views.HELP_TEXT)
        )

    async def _cmd_status(self, event: VideoCommand) -> None:
        requests = await self.store.open_requests(
            event.target.platform, event.target.workspace, event.actor.user_id
        )
        rows: list[tuple[VideoRequest, int | None]] = []
        for request in requests:
            position = None
            if request.status == RequestStatus.QUEUED:
                renders = await self.store.renders_for(request.id)
                if renders:
                    position = await self.store.queue_position(renders[0].id)
            rows.append((request, position))
        await self.chat.for_target(event.target).notify(
            event.target, event.actor.user_id, views.open_requests_message(rows)
        )

    async def _cmd_usage(self, event: VideoCommand) -> None:
        target = event.target
        policy = self.service.policy_for(target)
        since = month_start(self.service.clock.now())
        lines = [
            (
                "You",
                await self.store.usage("user", budget_key(target, event.actor.user_id), since),
                policy.budgets.per_user,
            )
        ]
        if policy.has_approvers and policy.is_approver(event.actor):
            lines.append(
                (
                    "This channel",
                    await self.store.usage("channel", budget_key(target, target.channel), since),
                    policy.budgets.per_channel,
                )
            )
            lines.append(
                (
                    "This workspace",
                    await self.store.usage("workspace", budget_key(target), since),
                    policy.budgets.per_workspace,
                )
            )
        await self.chat.for_target(target).notify(target, event.actor.user_id, views.usage_message(lines))

    async def _cmd_cancel(self, event: VideoCommand) -> None:
        requests = [
            r
            for r in await self.store.open_requests(
                event.target.platform, event.target.workspace, event.actor.user_id
            )
            if r.status in OPEN_REQUEST_STATES
            and r.status not in (RequestStatus.RENDERING, RequestStatus.IN_REVIEW)
        ]
        if not requests:
            raise UnknownRequest("You have no request that can still be cancelled.")
        await self.revisions.cancel(requests[-1].id, event.actor)

    # ------------------------------------------------------------------ buttons

    async def _button(self, event: ButtonPressed) -> None:
        svc = self.service
        if event.action == Action.RENDER:
            await svc.confirm(event.request_id, event.actor)
        elif event.action == Action.CANCEL:
            await self.revisions.cancel(event.request_id, event.actor)
        elif event.action == Action.RETRY:
            await svc.retry(event.request_id, event.actor)
        elif event.action == Action.REGENERATE:
            await self.revisions.revise(
                event.request_id, event.actor, text=None, instruction=None, kind="regenerate"
            )
        elif event.action == Action.EDIT:
            request = await svc.load(event.request_id)
            svc.policy_for(request.target).check_can_steer(event.actor, request, "edit")
            brief = await self.store.latest_brief(request.id)
            await self.chat.for_target(event.target).open_form(
                event.trigger, views.edit_form(request, brief, event.render_id)
            )
        elif event.action == Action.REJECT:
            request = await svc.load(event.request_id)
            svc.policy_for(request.target).check_can_decide(event.actor, request, "reject")
            if request.status != RequestStatus.IN_REVIEW:
                raise AlreadyDecided(f"Nothing to reject: this request is already {request.status.value}.")
            await self.chat.for_target(event.target).open_form(
                event.trigger, views.reject_form(request, event.render_id)
            )
        elif event.action == Action.APPROVE:
            await self._decide(
                event.request_id, event.render_id, event.actor, Decision.APPROVED, "", event.message_ref
            )
        elif event.action == Action.APPEAL:
            await self.governance.appeal(event.request_id, event.actor)
        elif event.action in (Action.APPEAL_ALLOW, Action.APPEAL_DENY):
            await self.governance.decide_appeal(
                event.request_id, event.actor, event.action == Action.APPEAL_ALLOW, event.message_ref
            )

    async def _decide(
        self,
        request_id: str,
        render_id: str | None,
        actor: Actor,
        decision: Decision,
        reason: str,
        message_ref: str | None,
    ) -> None:
        request, render, brief = await self.reviews.decide(request_id, render_id, actor, decision, reason)
        verb = "approved" if decision == Decision.APPROVED else "rejected"
        decided = views.decided_message(render, brief, verb, actor.mention, self.service.clock.now(), reason)
        chat = self.chat.for_target(request.target)
        ref = message_ref or await self.store.delivery_ref(f"clip:{render.id}")
        if ref:
            await chat.update(request.target, ref, decided)
        else:
            await chat.post(request.target, decided)

    # ------------------------------------------------------------------ forms

    async def _form(self, event: FormSubmitted) -> None:
        if event.action == Action.EDIT:
            text = (event.values.get("prompt") or "").strip()
            if not text:
                raise UserError("The prompt can't be empty. Describe the video you want.")
            ask = parse_ask(text)
            await self.revisions.revise(
                event.request_id, event.actor, text=ask.text, instruction=None, kind="edit"
            )
        elif event.action == Action.REJECT:
            await self._decide(
                event.request_id,
                event.render_id,
                event.actor,
                Decision.REJECTED,
                event.values.get("reason", ""),
                None,
            )

    # ------------------------------------------------------------------ thread replies

    async def _reply(self, event: ThreadReply) -> None:
        if not await self.store.remember_event(f"{event.target.platform}:{event.event_id}"):
            return
        request = await self.store.find_request_by_thread(event.target)
        if request is None or not event.text.strip():
            return
        if request.status == RequestStatus.CLARIFYING:
            await self.revisions.answer(request, event.actor, event.text.strip())
        elif request.status == RequestStatus.AWAITING_CONFIRMATION:
            await self.revisions.revise(
                request.id, event.actor, text=request.raw_text, instruction=event.text.strip(), kind="reply"
            )
