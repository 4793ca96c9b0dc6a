"""Answer every interaction inside Discord's 3 seconds, then let the core do the work.

The core is not fast enough for the deadline (it refines prompts and talks to the
database), so each handler answers first and runs ``Conversation.handle`` in a
background task:

- ``/video``: an ephemeral "🎬 on it" at once; when the core has opened the thread,
  that message is edited to point at it.
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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from adapters.discord import events
from adapters.discord.chat import DiscordChat
from adapters.discord.components import ClipRef, buttons_from_components
from adapters.discord.replies import InteractionReply, current_reply
from bot.conversation import Conversation
from bot.events import ChatEvent
from bot.messages import Action

log = logging.getLogger(__name__)

FORM_ACTIONS = frozenset({Action.EDIT, Action.REJECT})
FORM_DEADLINE = 2.0  # of Discord's 3 s, leaving room for the network both ways
ON_IT = "🎬 On it — I'm opening a thread for this request."

After = Callable[[InteractionReply], Awaitable[None]]


class InteractionHandlers:
    """Turns interactions into core events, acknowledging each one first."""

    def __init__(
        self, conversation: Conversation, chat: DiscordChat, *, form_deadline: float = FORM_DEADLINE
    ) -> None:
        self.conversation = conversation
        self.chat = chat
        self.form_deadline = form_deadline
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ commands

    async def video(self, interaction: discord.Interaction[Any], text: str) -> None:
        reply = self._reply(interaction)
        await reply.say(ON_IT)
        self._spawn(reply, events.command(interaction, text, reply), after=_point_at_thread)

    async def lookup(self, interaction: discord.Interaction[Any], word: str) -> None:
        """``status``, ``usage`` or ``cancel``: the core answers with an ephemeral notice."""
        reply = self._reply(interaction)
        await reply.acknowledge(thinking=True)
        self._spawn(reply, events.command(interaction, word, reply))

    # ------------------------------------------------------------------ components

    async def click(self, interaction: discord.Interaction[Any], ref: ClipRef) -> None:
        reply = self._reply(interaction)
        event = events.click(interaction, ref, reply)
        if event.message_ref and interaction.message is not None:
            # After a restart this is how the adapter learns which buttons the message shows.
            buttons = buttons_from_components(interaction.message.components)
            if buttons:
                self.chat.remember_buttons(event.message_ref, buttons)
        if ref.action in FORM_ACTIONS:
            task = self._spawn(reply, event)
            await asyncio.wait({task}, timeout=self.form_deadline)
            await reply.acknowledge()
            return
        await reply.acknowledge()
        self._spawn(reply, event)

    async def submit(self, interaction: discord.Interaction[Any]) -> None:
        event = events.submission(interaction)
        if event is None:
            return
        reply = self._reply(interaction)
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
        self,
        reply: InteractionReply | None,
        event: ChatEvent,
        *,
        after: After | None = None,
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(self._run(reply, event, after), name=f"discord-{type(event).__name__}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, reply: InteractionReply | None, event: ChatEvent, after: After | None) -> None:
        current_reply.set(reply)  # this task's own context: no other event sees it
        try:
            await self.conversation.handle(event)  # turns every error into a notice itself
            if after is not None and reply is not None:
                await after(reply)
        except Exception:
            log.exception("Discord: handling %s failed", type(event).__name__)

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


async def _point_at_thread(reply: InteractionReply) -> None:
    if reply.thread_id and reply.usable():
        await reply.edit_original(f"🎬 On it — follow along in <#{reply.thread_id}>.")
