"""How the thread presenter writes in a request's thread: open it, post, update a message by its role.

The presenter (:mod:`bot.presenter`) decides what an event says; this module
knows where it goes. A request's thread is opened by its parent message, once;
threads opened together are recorded together (a burst of asks: one write, not
200). Messages that later events update in place are remembered by role
(``status``, ``brief:<id>``, ``clip:<render id>``, ``appeal``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot import views
from bot.chat import ChatRouter
from bot.coalesce import Coalescer
from bot.domain import ReplyTarget, VideoRequest
from bot.messages import Message
from bot.ports.chat import ChatPort
from bot.ports.storage import MessageRefs, RequestRepo

log = logging.getLogger(__name__)


class ThreadPosts:
    """Posts and updates of one process's thread presenter, on the request's chat platform."""

    def __init__(self, *, chat: ChatRouter, requests: RequestRepo, refs: MessageRefs) -> None:
        self.router = chat
        self.requests = requests
        self.refs = refs
        self._threads: Coalescer[tuple[str, ReplyTarget], None] = Coalescer(self._record_threads, most=200)

    def chat(self, request: VideoRequest) -> ChatPort:
        return self.router.for_target(request.target)

    async def thread(self, request: VideoRequest, *, open_it: bool = False) -> ReplyTarget | None:
        """The request's thread; ``open_it`` posts its parent message if it has none yet.

        Only the events that start a request's conversation open its thread. If that failed for
        good, the request was failed and told so privately: later posts have nowhere to go.
        """
        if request.target.thread is not None:
            return request.target
        if not open_it:
            return None
        thread, _ref = await self.chat(request).start_thread(
            request.target, views.parent_message(request), key=f"thread:{request.id}"
        )
        await self._threads.submit((request.id, thread))
        request.target = thread
        return thread

    async def post(self, request: VideoRequest, message: Message, key: str) -> str | None:
        """Post in the request's thread (``key`` makes a redelivery a no-op); nothing without one."""
        target = await self.thread(request)
        if target is None:
            log.info("request %s has no thread; not posting %r", request.id, message.text[:60])
            return None
        return await self.chat(request).post(target, message, key=key)

    async def post_as(self, request: VideoRequest, role: str, message: Message, key: str) -> str | None:
        """:meth:`post`, remembering the message as ``role`` for later updates."""
        ref = await self.post(request, message, key)
        if ref is not None:
            await self.refs.remember_ref(request.id, role, ref)
        return ref

    async def replace(
        self, request: VideoRequest, role: str, message: Message, *, post: bool = True
    ) -> str | None:
        """Update the message of ``role`` in place, or post it if it was never posted."""
        ref = await self.refs.message_ref(request.id, role)
        if ref is not None:
            await self.chat(request).update(request.target, ref, message)
            return ref
        if not post:
            return None
        return await self.chat(request).post(request.target, message)

    async def settle(self) -> None:
        """Wait until every thread opened so far is recorded (shutdown: before the store closes)."""
        await self._threads.idle()

    async def _record_threads(self, threads: Sequence[tuple[str, ReplyTarget]]) -> list[None]:
        await self.requests.set_threads(threads)
        return [None] * len(threads)
