"""Answer every interaction inside Discord's 3 seconds, then let the core do the work.

The core is not fast enough for the deadline (it refines prompts and talks to the
database), so each handler answers first and runs ``Conversation.handle`` in a
background task:

- ``/video``: the ask is recorded first (one transaction, well inside the 3 s), then an
  ephemeral "🎬 on it"; when the thread is opened, that message is edited to point at it.
- ``/video-status``, ``/video-usage``, ``/video-cancel``: a deferral (the user sees
  "thinking…"), replaced by the core's ephemeral answer.
- a button: a deferred update (the message stays as it is) — except **Edit prompt**
  and **Reject**, whose answer must be a modal, and a modal can only ever be the
  *first* answer. Those run the core at once and give it ``FORM_DEADLINE`` seconds to
  open the form (a couple of database reads, normally milliseconds); if it has not
  answered by then, the click is deferred so Discord does not fail it, and the core's
  late form becomes an ephemeral "press the button again". The alternative — the
  adapter opening the modal itself — would skip the core's permission check and
  prefill.
- a modal submission: a deferred update, then the core.

Answers go first (``replies.AnswersFirst``): the core's work after an answer waits while
other interactions are being answered, so a burst of 200 is answered before any of it
refines a prompt or queues a render. A form's core call is the exception: it *is* the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

import discord

from adapters.discord import events
from adapters.discord.chat import DiscordChat
from adapters.discord.components import ClipRef, buttons_from_components
from adapters.discord.replies import InteractionReply, current_reply
from bot.conversation import Conversation, Receipt
from bot.domain import RequestOptions
from bot.events import ButtonPressed, ChatEvent, Subcommand, VideoCommand
from bot.messages import Action

log = logging.getLogger(__name__)

FORM_ACTIONS = frozenset({Action.EDIT, Action.REJECT, Action.EDIT_SCRIPT, Action.EDIT_SHOT})
FORM_DEADLINE = 2.0  # of Discord's 3 s, leaving room for the network both ways
ON_IT = "🎬 On it — I'm opening a thread for this request."


class InteractionHandlers:
    """Turns interactions into core events, acknowledging each one first."""

    def __init__(
        self, conversation: Conversation, chat: DiscordChat, *, form_deadline: float = FORM_DEADLINE
    ) -> None:
        self.conversation = conversation
        self.chat = chat
        self.form_deadline = form_deadline
        self.answers = chat.answers
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ commands

    async def video(
        self, interaction: discord.Interaction[Any], prompt: str, options: RequestOptions
    ) -> None:
        """Record the ask, then say "on it"; a mistake is the (ephemeral) answer instead."""
        reply = self._reply(interaction)
        with self.answers.answer():
            receipt = await self._record(reply, events.command(interaction, prompt, reply, options=options))
            if receipt.request is None:
                await reply.acknowledge()  # answered already, or a repeat: never leave Discord waiting
                return
            await reply.say(ON_IT)
        self.chat.expect_thread(receipt.request.id, reply)
        self._track(self._follow_up(reply, receipt))

    async def _record(self, reply: InteractionReply, event: VideoCommand) -> Receipt:
        token = current_reply.set(reply)  # a mistake is whispered through this interaction
        try:
            receiving = asyncio.ensure_future(self.conversation.receive(event))
        finally:
            current_reply.reset(token)
        done, _ = await asyncio.wait({receiving}, timeout=self.form_deadline)
        if not done:
            # The database is slow to take the ask: keep Discord waiting ("thinking"), never say
            # "on it" before the ask is a row, and never let the interaction expire.
            await reply.acknowledge(thinking=True)
        return await receiving

    async def lookup(self, interaction: discord.Interaction[Any], sub: Subcommand) -> None:
        """``status``, ``usage`` or ``cancel``: the core answers with an ephemeral notice."""
        reply = self._reply(interaction)
        with self.answers.answer():
            await reply.acknowledge(thinking=True)
        self._spawn(reply, events.command(interaction, sub.value, reply, subcommand=sub))

    # ------------------------------------------------------------------ components

    async def click(self, interaction: discord.Interaction[Any], ref: ClipRef) -> None:
        reply = self._reply(interaction)
        if ref.action in FORM_ACTIONS:
            with self.answers.answer():
                task = self._spawn(reply, self._clicked(interaction, ref, reply), urgent=True)
                await asyncio.wait({task}, timeout=self.form_deadline)
                await reply.acknowledge()
            return
        with self.answers.answer():
            await reply.acknowledge()
        self._spawn(reply, self._clicked(interaction, ref, reply))

    def _clicked(
        self, interaction: discord.Interaction[Any], ref: ClipRef, reply: InteractionReply
    ) -> ButtonPressed:
        event = events.click(interaction, ref, reply)
        if event.message_ref and interaction.message is not None:
            # After a restart this is how the adapter learns which buttons the message shows.
            buttons = buttons_from_components(interaction.message.components)
            if buttons:
                self.chat.remember_buttons(event.message_ref, buttons)
        return event

    async def submit(self, interaction: discord.Interaction[Any]) -> None:
        event = events.submission(interaction)
        if event is None:
            return
        reply = self._reply(interaction)
        with self.answers.answer():
            await reply.acknowledge()
        self._spawn(reply, event)

    async def message(self, message: discord.Message, me: discord.ClientUser | None) -> None:
        """A reply in a request's thread that mentions the bot (a clarification answer)."""
        event = events.thread_reply(message, me)
        if event is not None:
            self._spawn(None, event)

    # ------------------------------------------------------------------ running the core

    def _reply(self, interaction: discord.Interaction[Any]) -> InteractionReply:
        self.chat.learn_upload_limit(interaction.guild_id, interaction.filesize_limit)
        return InteractionReply(interaction)

    def _spawn(
        self, reply: InteractionReply | None, event: ChatEvent, *, urgent: bool = False
    ) -> asyncio.Task[None]:
        """Run the core on ``event``; unless ``urgent``, after the answers in flight."""
        return self._track(self._run(reply, event, urgent=urgent))

    def _track(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name="discord-core")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, reply: InteractionReply | None, event: ChatEvent, *, urgent: bool) -> None:
        current_reply.set(reply)  # this task's own context: no other event sees it
        if not urgent:
            await self.answers.wait()
        if reply is not None:
            self.chat.remember_reply(reply)
        try:
            await self.conversation.handle(event)  # turns every error into a notice itself
        except Exception:
            log.exception("Discord: handling %s failed", type(event).__name__)

    async def _follow_up(self, reply: InteractionReply, receipt: Receipt) -> None:
        current_reply.set(reply)
        await self.answers.wait()
        await self.conversation.follow_up(receipt)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, grace: float = 10.0) -> None:
        """Let running core calls finish (a shutdown); cancel what is left after ``grace`` seconds."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
