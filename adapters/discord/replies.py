"""The interaction a core call is answering, and the rule that it is answered exactly once.

Discord wants one *initial* response to every interaction within 3 seconds (a
message, a deferral or a modal); everything after that is a follow-up through
the interaction's webhook, which works for 15 minutes. :class:`InteractionReply`
serialises those choices behind one lock, so the adapter's own deferral and the
core's notice or form can race without ever answering twice.

``current_reply`` carries the reply into ``Conversation.handle``: the handler
sets it in the task that runs the core, so ``DiscordChat.notify`` finds the
interaction of the user it is talking to without a shared map that could mix
two clicks up.

:class:`AnswersFirst` lets answers go before work that can wait. Everything in
``serve`` shares one event loop (and, on SQLite, one writer): with 200 interactions
arriving at once, the core work behind the first answers (refining, queuing renders)
and the outbox's thread posts used to run between the later interactions' answers and
push them past the bench's bound. An interaction being answered now holds that work
back until every interaction in flight is answered, for at most ``HOLD_SECONDS``, so
a steady stream of interactions cannot starve it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextvars import ContextVar
from typing import Any

import discord
from discord import ui

from adapters.discord.components import Rendered
from adapters.metrics import record_ack
from adapters.runtime.answers import HOLD_SECONDS as HOLD_SECONDS
from adapters.runtime.answers import AnswersFirst as AnswersFirst

log = logging.getLogger(__name__)

# Interaction tokens last 15 minutes; leave a margin for the request in flight.
USABLE_SECONDS = 14 * 60


class InteractionReply:
    """One interaction and what has been said to it so far."""

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction
        self.user_id = str(interaction.user.id)
        self.created = time.monotonic()
        self.thread_id: str | None = None  # set when the core opens a thread for this command
        self._lock = asyncio.Lock()

    @property
    def responded(self) -> bool:
        return self.interaction.response.is_done()

    def usable(self) -> bool:
        return time.monotonic() - self.created < USABLE_SECONDS

    async def acknowledge(self, *, thinking: bool = False) -> None:
        """Defer unless something was already sent: a click keeps its message, a command thinks."""
        async with self._lock:
            if not self.responded:
                await self.interaction.response.defer(ephemeral=True, thinking=thinking)
                record_ack("discord", time.monotonic() - self.created)

    async def say(self, content: str) -> None:
        """The initial response: an ephemeral message (falls back to a follow-up if one was sent)."""
        await self.whisper(Rendered(content, None, None))

    async def open_modal(self, modal: ui.Modal) -> bool:
        """Send ``modal`` as the initial response; ``False`` if the interaction was already answered."""
        async with self._lock:
            if self.responded:
                return False
            # Submissions are read back from the modal's custom id (client.on_interaction), so the
            # library must not keep this object waiting for them: a finished modal is not stored.
            modal.stop()
            await self.interaction.response.send_modal(modal)
            return True

    async def whisper(self, rendered: Rendered) -> None:
        """Something only this user sees: the initial response if none was sent, else a follow-up."""
        kwargs = rendered.send_kwargs()
        async with self._lock:
            if not self.responded:
                await self.interaction.response.send_message(ephemeral=True, **kwargs)
                return
        await self.interaction.followup.send(ephemeral=True, **kwargs)

    async def edit_original(self, content: str) -> None:
        try:
            await self.interaction.edit_original_response(content=content)
        except discord.HTTPException as exc:  # cosmetic: the thread itself is what matters
            log.info("could not edit the response to interaction %s: %s", self.interaction.id, exc)


current_reply: ContextVar[InteractionReply | None] = ContextVar("clipdesk_discord_reply", default=None)
