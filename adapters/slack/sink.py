"""The work around the ack: the durable step before it, and core events handled in background tasks after."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from adapters.runtime.answers import AnswersFirst
from adapters.slack.events import IncomingMessage
from adapters.slack.groups import ApproverGroups
from bot.conversation import Conversation, Receipt
from bot.events import ButtonPressed, ChatEvent, FormSubmitted, VideoCommand
from bot.ports.storage import RequestRepo

log = logging.getLogger(__name__)


class EventSink:
    """Hands events to the core without holding up Slack's 3-second ack.

    Every task is referenced until it ends (a bare ``ensure_future`` may be
    garbage-collected mid-flight) and its failure is logged, never lost. The
    slow part of new asks shares ``concurrency`` slots, so a burst queues
    instead of flooding the database pool; clicks and modal submissions skip
    that queue, because a click's ``trigger_id`` (for ``views.open``) lasts
    about 3 seconds and a person is waiting on it.

    Args:
        conversation: The core's chat entry point.
        groups: Resolves the approver groups a user is in, added to ``Actor.groups``.
        requests: Tells a reply in a request's thread from a mention elsewhere.
        concurrency: How many asks are worked on at once after their ack.
    """

    def __init__(
        self,
        conversation: Conversation,
        groups: ApproverGroups,
        requests: RequestRepo,
        *,
        concurrency: int = 16,
        answers: AnswersFirst | None = None,
    ) -> None:
        self.conversation = conversation
        self.groups = groups
        self.requests = requests
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self.answers = answers
        self._closing = False

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def receive(self, event: VideoCommand) -> Receipt:
        """Record a new ask (the step before the ack)."""
        return await self.conversation.receive(await self._with_groups(event))

    def follow_up(self, receipt: Receipt) -> None:
        """Refine a recorded ask in the background (after the ack)."""
        self._spawn(self.conversation.follow_up(receipt), "ask", queued=True)

    def submit(self, event: ChatEvent) -> None:
        """Handle ``event`` in the background."""
        urgent = isinstance(event, ButtonPressed | FormSubmitted)
        self._spawn(self._handle(event), type(event).__name__, queued=not urgent)

    async def route_message(self, message: IncomingMessage) -> None:
        """A mention, DM or thread reply: a new ask is recorded now, a reply handled in the background."""
        if message.in_thread:
            # A reply counts only in a request's thread; a mention elsewhere in a thread is a new ask.
            if await self.requests.find_request_by_thread(message.thread_target) is not None:
                self.submit(message.as_reply())
                return
            if not message.mention:
                return
        elif not (message.mention or message.direct):
            return
        receipt = await self.receive(message.as_command())
        self.follow_up(receipt)

    async def drain(self) -> None:
        """Wait until no background work is left (work may start more work; that is waited for too)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self, grace: float = 10.0) -> None:
        """Let running work finish for ``grace`` seconds, then cancel what is left.

        A cancelled ask is not lost: it is a row, and the recovery sweep of this or another
        process resumes it.
        """
        self._closing = True
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
        if self.answers is not None:
            await self.answers.wait()  # the acks of a burst go out before its work starts
        async with self._slots:
            await work

    def _done(self, task: asyncio.Task[None], what: str) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack %s handling failed", what, exc_info=task.exception())

    async def _with_groups(self, event: Any) -> Any:
        groups = await self.groups.of(event.actor.user_id)
        return replace(event, actor=replace(event.actor, groups=groups)) if groups else event

    async def _handle(self, event: ChatEvent) -> None:
        await self.conversation.handle(await self._with_groups(event))
