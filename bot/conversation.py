"""The chat entry point: map chat events to typed commands, and answer the person who acted.

A thin mapper: it reads the event, builds the command with its caller (platform,
workspace, channel, user), calls the use case, and turns a mistake the user can
fix into a private notice. It never changes state itself, and what happens to a
request is shown in its thread by the presenter, whatever the entry point.

New asks come in two steps so an adapter can make them durable before it tells
the platform "on it": :meth:`Conversation.receive` validates and records the ask
(fast, one transaction), :meth:`Conversation.follow_up` does the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot import texts, views
from bot.access import load_for
from bot.chat import ChatRouter
from bot.commands import (
    AnswerQuestion,
    Appeal,
    Caller,
    CancelRequest,
    ConfirmRender,
    Decide,
    DecideAppeal,
    MakeFinal,
    OpenRequest,
    PickVariant,
    RerenderShot,
    RetryNarrationOf,
    RetryRequest,
    ReviseBrief,
    Revision,
)
from bot.domain import Decision, ReplyTarget, RequestStatus, VideoRequest
from bot.errors import ModerationUnavailable, UserError
from bot.events import (
    ButtonPressed,
    ChatEvent,
    FormSubmitted,
    Subcommand,
    ThreadReply,
    VideoCommand,
    subcommand_of,
)
from bot.explainers import script_lines_from_form
from bot.messages import Action, Message
from bot.options import parse_ask
from bot.ports.storage import RequestRepo, UnitOfWork
from bot.text_input import clean_text
from bot.usecases.catalog import UseCases

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    """What :meth:`Conversation.receive` did with an ask: recorded it, saw it before, or answered it."""

    request: VideoRequest | None = None
    duplicate: bool = False
    answered: bool = False  # a subcommand or a mistake, already answered privately


# (caller, request id) → a one-time sign-in link to the review page and the minutes it works
ReviewLink = Callable[[Caller, str], tuple[str, float]]


class Conversation:
    def __init__(
        self,
        *,
        usecases: UseCases,
        chat: ChatRouter,
        requests: RequestRepo,
        uow: UnitOfWork,
        review_link: ReviewLink | None = None,
    ) -> None:
        self.usecases = usecases
        self.chat = chat
        self.requests = requests
        self.uow = uow
        self.review_link = review_link  # mints a one-time review page link for a caller, if served

    # ------------------------------------------------------------------ entry points

    async def handle(self, event: ChatEvent) -> None:
        """Apply one event (a new ask runs both steps). Every error becomes an answer to the actor."""
        if isinstance(event, VideoCommand):
            receipt = await self.receive(event)
            await self.follow_up(receipt)
            return
        await self._guarded(event, self._dispatch(event))

    async def receive(self, event: VideoCommand) -> Receipt:
        """Record a new ask durably (or answer a subcommand or mistake); fast enough to await pre-ack."""
        sub = event.subcommand or (subcommand_of(event.text) if event.options is None else None)
        if sub is not None:
            await self._guarded(event, self._subcommand(event, sub))
            return Receipt(answered=True)
        try:
            ask = parse_ask(event.text, given=event.options)
            command = OpenRequest(self._caller(event), ask.text, ask.options, self._key(event))
            request = await self.usecases.intake.accept(command)
        except Exception as exc:
            await self._answer_error(event, exc)
            return Receipt(answered=True)
        return Receipt(request=request, duplicate=request is None)

    async def follow_up(self, receipt: Receipt) -> None:
        """The slow part of a new ask: moderation, the thread, the first brief."""
        if receipt.request is None:
            return
        try:
            await self.usecases.intake.open(receipt.request)
        except Exception:
            # The ask is recorded: the recovery sweep resumes it, and the thread says what happened.
            log.exception("could not process request %s; it will be resumed", receipt.request.id)

    # ------------------------------------------------------------------ mapping

    async def _dispatch(self, event: ChatEvent) -> None:
        if isinstance(event, ButtonPressed):
            await self._button(event)
        elif isinstance(event, FormSubmitted):
            await self._form(event)
        elif isinstance(event, ThreadReply):
            await self._reply(event)

    async def _subcommand(self, event: VideoCommand, sub: Subcommand) -> None:
        if not await self._first_time(event):
            return
        caller = self._caller(event)
        chat = self.chat.for_target(event.target)
        if sub == Subcommand.HELP:
            help_text = Message(text="How to use clipdesk", body=views.HELP_TEXT, mentions=None)
            await chat.notify(event.target, caller.user_id, help_text)
        elif sub == Subcommand.STATUS:
            rows = await self.usecases.queries.open_requests(caller)
            await chat.notify(event.target, caller.user_id, views.open_requests_message(rows))
        elif sub == Subcommand.USAGE:
            lines = await self.usecases.queries.spend(caller)
            await chat.notify(event.target, caller.user_id, views.usage_message(lines))
        elif sub == Subcommand.CANCEL:
            await self.usecases.cancel.cancel_latest(caller)

    async def _button(self, event: ButtonPressed) -> None:
        caller = self._caller(event)
        uc = self.usecases
        rid = event.request_id
        if event.action == Action.RENDER:
            await uc.confirm.confirm(ConfirmRender(caller, rid))
        elif event.action == Action.CANCEL:
            await uc.cancel.cancel(CancelRequest(caller, rid))
        elif event.action == Action.RETRY:
            await uc.confirm.retry(RetryRequest(caller, rid))
        elif event.action == Action.REGENERATE:
            await uc.revise.revise(ReviseBrief(caller, rid, Revision.REGENERATE))
        elif event.action == Action.EDIT:
            request, brief = await uc.queries.edit_draft(caller, rid)
            await self.chat.for_target(event.target).open_form(
                event.trigger, views.edit_form(request, brief, event.render_id)
            )
        elif event.action == Action.EDIT_SCRIPT:
            request, brief = await uc.queries.edit_draft(caller, rid)
            if brief is None or brief.explainer is None:
                raise UserError(texts.NO_SCRIPT)
            await self.chat.for_target(event.target).open_form(
                event.trigger, views.edit_script_form(brief, event.render_id)
            )
        elif event.action == Action.REJECT:
            request = await uc.queries.reject_draft(caller, rid)
            await self.chat.for_target(event.target).open_form(
                event.trigger, views.reject_form(request, event.render_id)
            )
        elif event.action == Action.APPROVE:
            await uc.decisions.decide(Decide(caller, rid, Decision.APPROVED, event.render_id))
        elif event.action == Action.OPEN_REVIEW and self.review_link is not None:
            await load_for(self.requests, caller, rid)  # only a request of the presser's workspace
            url, minutes = self.review_link(caller, rid)
            await self._tell(event, views.review_link_message(url, minutes))
        elif event.action == Action.APPEAL:
            await uc.appeals.appeal(Appeal(caller, rid))
            await self._tell(event, views.appeal_sent())
        elif event.action in (Action.APPEAL_ALLOW, Action.APPEAL_DENY):
            await uc.appeals.decide(DecideAppeal(caller, rid, event.action == Action.APPEAL_ALLOW))
        elif event.action == Action.PICK and uc.variants is not None:
            await uc.variants.pick(PickVariant(caller, rid, event.render_id))
        elif event.action == Action.RETRY_NARRATION and uc.narration is not None:
            await uc.narration.retry(RetryNarrationOf(caller, rid, event.render_id))
        elif event.action == Action.MAKE_FINAL and uc.shots is not None:
            await uc.shots.make_final(MakeFinal(caller, rid))
        elif event.action == Action.REGENERATE_SHOT and uc.shots is not None:
            await uc.shots.rerender(RerenderShot(caller, rid, shot_render_id=event.render_id))
        elif event.action == Action.EDIT_SHOT and uc.shots is not None:
            request, index, words = await uc.shots.edit_draft(caller, rid, event.render_id)
            await self.chat.for_target(event.target).open_form(
                event.trigger, views.edit_shot_form(request, index, words, event.render_id)
            )

    async def _form(self, event: FormSubmitted) -> None:
        caller = self._caller(event)
        if event.action == Action.EDIT:
            text = clean_text(event.values.get("prompt"), what="prompt")
            if not text:
                raise UserError(texts.EMPTY_PROMPT)
            ask = parse_ask(text)
            revise = ReviseBrief(caller, event.request_id, Revision.EDIT, text=ask.text, options=ask.options)
            await self.usecases.revise.revise(revise)
        elif event.action == Action.EDIT_SCRIPT:
            await self._edit_script(caller, event)
        elif event.action == Action.EDIT_SHOT and self.usecases.shots is not None:
            text = clean_text(event.values.get("shot"), what="shot")
            if not text:
                raise UserError(texts.EMPTY_PROMPT)
            rerender = RerenderShot(caller, event.request_id, shot_render_id=event.render_id, text=text)
            await self.usecases.shots.rerender(rerender)
        elif event.action == Action.REJECT:
            reason = clean_text(event.values.get("reason"), what="reason")
            decide = Decide(caller, event.request_id, Decision.REJECTED, event.render_id, reason)
            await self.usecases.decisions.decide(decide)

    async def _edit_script(self, caller: Caller, event: FormSubmitted) -> None:
        """Edit script: the teacher's narration, one line per shot; empty is a friendly error."""
        text = clean_text(event.values.get("script"), what="script")
        _, brief = await self.usecases.queries.edit_draft(caller, event.request_id)
        if brief is None or brief.explainer is None:
            raise UserError(texts.NO_SCRIPT)
        script = script_lines_from_form(text, len(brief.shots))
        if not any(any(ch.isalnum() for ch in line) for line in script):  # "1.\n2." says nothing
            raise UserError(texts.EMPTY_SCRIPT)
        revise = ReviseBrief(caller, event.request_id, Revision.SCRIPT, script=script)
        await self.usecases.revise.revise(revise)

    async def _reply(self, event: ThreadReply) -> None:
        if not await self._first_time(event):
            return
        request = await self.requests.find_request_by_thread(event.target)
        if request is None:
            return
        text = clean_text(event.text, what="reply")
        if not text:
            return
        caller = self._caller(event)
        if request.status == RequestStatus.CLARIFYING:
            await self.usecases.revise.answer(AnswerQuestion(caller, request.id, text))
        elif request.status == RequestStatus.AWAITING_CONFIRMATION:
            await self.usecases.revise.revise(
                ReviseBrief(caller, request.id, Revision.REPLY, instruction=text)
            )

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _caller(event: ChatEvent) -> Caller:
        return Caller(event.actor, event.target)

    @staticmethod
    def _key(event: VideoCommand | ThreadReply) -> str:
        return f"{event.target.platform}:{event.event_id}"

    async def _first_time(self, event: VideoCommand | ThreadReply) -> bool:
        """Remember a platform event id; ``False`` for a retried delivery."""
        async with self.uow.transaction() as tx:
            return await tx.remember_event(self._key(event))

    async def _guarded(self, event: ChatEvent, work: object) -> None:
        try:
            await work  # type: ignore[misc]
        except Exception as exc:
            await self._answer_error(event, exc)

    async def _answer_error(self, event: ChatEvent, exc: Exception) -> None:
        if isinstance(exc, ModerationUnavailable):
            log.error("moderation unavailable: %s", exc)
            await self._tell(event, Message(text=texts.MODERATION_DOWN, mentions=None))
        elif isinstance(exc, UserError):
            # The core's own words (they may name approvers): private, so mentions stay as written.
            await self._tell(event, Message(text=exc.user_message, mentions=None))
        else:
            log.error(
                "failed to handle %s from %s in %s",
                type(event).__name__,
                event.actor.user_id,
                event.target,
                exc_info=exc,
            )
            await self._tell(event, Message(text=texts.INTERNAL_ERROR, mentions=None))

    async def _tell(self, event: ChatEvent, message: Message) -> None:
        target: ReplyTarget = event.target
        try:
            await self.chat.for_target(target).notify(target, event.actor.user_id, message)
        except Exception:
            log.exception("could not tell %s: %s", event.actor.user_id, message.text)
