"""A webhook subscriber on loopback: records every delivery and answers a scripted series of statuses."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.loopback import LoopbackServer


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class WebhookReceiver:
    """``answers`` are used in order (then 200); ``hang_seconds`` makes it slow to answer."""

    answers: deque[int] = field(default_factory=deque)
    hang_seconds: float = 0.0
    received: list[Received] = field(default_factory=list)
    server: LoopbackServer = field(default_factory=LoopbackServer)

    @property
    def url(self) -> str:
        return f"{self.server.base_url}/hooks/clipdesk"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/clipdesk", self._hook)
        await self.server.open(app, "clipdesk-webhooks-")

    async def close(self) -> None:
        await self.server.close()

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.hang_seconds:
            await asyncio.sleep(self.hang_seconds)
        status = self.answers.popleft() if self.answers else 200
        self.received.append(Received({k.lower(): v for k, v in request.headers.items()}, body, status))
        return web.Response(status=status, text="ok" if status < 300 else "no")
