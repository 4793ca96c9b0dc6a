"""Time how long the web app takes to acknowledge a platform's request (Slack's 3-second ack)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from adapters.metrics import record_ack

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ACK_PATHS = {"/slack/events": "slack"}


class AckTiming:
    """Pure ASGI middleware (no request object is built): start of request → start of response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        platform = ACK_PATHS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if platform is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                record_ack(platform, time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, timed)
