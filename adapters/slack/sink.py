"""The work after the ack: core events handled in background tasks this object keeps and drains."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from adapters.slack.events import IncomingMessage
from adapters.slack.groups import ApproverGroups
from bot.conversation import Conversation
from bot.events import ButtonPressed, ChatEvent, FormSubmitted

log = logging.getLogger(__name__)


class EventSink:
    """Hands events to :meth:`Conversation.handle` without holding up Slack's 3-second ack.

    Every task is referenced until it ends (a bare ``ensure_future`` may be
    garbage-collected mid-flight) and its failure is logged, never lost. New
    asks (commands, mentions, DMs) share ``concurrency`` slots, so a burst
    queues instead of flooding the database pool; clicks and modal submissions
    skip that queue, because a click's ``trigger_id`` (for ``views.open``)
    lasts about 3 seconds and a person is waiting on it.

    Args:
        conversation: The core's event handler.
        groups: Resolves the approver groups a user is in, added to ``Actor.groups``.
        concurrency: How many asks are worked on at once.
    """

    def __init__(self, conversation: Conversation, groups: ApproverGroups, *, concurrency: int = 16) -> None:
        self.conversation = conversation
        self.groups = groups
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(concurrency)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def submit(self, event: ChatEvent) -> None:
        """Handle ``event`` in the background."""
        urgent = isinstance(event, ButtonPressed | FormSubmitted)
        self._spawn(self._handle(event), type(event).__name__, queued=not urgent)

    def submit_message(self, message: IncomingMessage) -> None:
        """Route a mention, DM or thread reply in the background (it needs a store look-up)."""
        self._spawn(self._route(message), "message", queued=True)

    async def drain(self) -> None:
        """Wait until no background work is left (work may start more work; that is waited for too)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self, grace: float = 10.0) -> None:
        """Let running work finish for ``grace`` seconds, then cancel what is left."""
        try:
            await asyncio.wait_for(self.drain(), grace)
        except TimeoutError:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------------ internals

    def _spawn(self, work: Coroutine[Any, Any, None], what: str, *, queued: bool) -> None:
        task = asyncio.create_task(self._queued(work) if queued else work)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._done(t, what))

    async def _queued(self, work: Coroutine[Any, Any, None]) -> None:
        async with self._slots:
            await work

    def _done(self, task: asyncio.Task[None], what: str) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack %s handling failed", what, exc_info=task.exception())

    async def _handle(self, event: ChatEvent) -> None:
        groups = await self.groups.of(event.actor.user_id)
        if groups:
            event = replace(event, actor=replace(event.actor, groups=groups))
        await self.conversation.handle(event)

    async def _route(self, message: IncomingMessage) -> None:
        if message.in_thread:
            # A reply counts only in a request's thread; a mention elsewhere in a thread is a new ask.
            if await self.conversation.store.find_request_by_thread(message.thread_target) is not None:
                await self._handle(message.as_reply())
            elif message.mention:
                await self._handle(message.as_command())
            return
        if message.mention or message.direct:
            await self._handle(message.as_command())
