"""Cap every request body before it is read: 1 MiB, checked on the way in.

Slack, Discord and OpenAI never send more than a few hundred kilobytes; the
REST API's largest body is a prompt with options. A declared
``Content-Length`` over the cap is answered 413 at once, without reading a
byte of the body; a body without one (chunked) is counted as it arrives and
refused the moment it passes the cap, so nothing larger is ever held.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.web.refusals import RefusalLog

MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    """Raised from ``receive`` when a body passes the cap mid-stream."""


def client_of(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


async def send_error(send: Send, status: int, error: str, *, problem: bool = False) -> None:
    """A short JSON error answer, for refusals made before any route runs.

    ``problem``: answer as ``application/problem+json`` (RFC 9457), as the REST API does.
    """
    content_type = b"application/problem+json" if problem else b"application/json"
    document = {"type": "about:blank", "title": "Body too large", "status": status, "detail": error}
    body = json.dumps(document if problem else {"error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` header as a number; ``None`` when absent (or not a number, which
    the HTTP server itself answers 400 before the app sees it)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """ASGI middleware: bodies over ``max_bytes`` are answered 413 and never read whole.

    Args:
        app: The application behind the cap.
        refusals: Where a refused request is logged (one line, no body).
        max_bytes: The cap.
    """

    def __init__(self, app: ASGIApp, refusals: RefusalLog, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.refusals = refusals
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, send, f"a {declared}-byte body is over the {self._limit()} limit")
            return
        received = 0
        started = False

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, capped_receive, tracking_send)
        except BodyTooLarge:
            if started:  # too late to answer; the server closes the connection
                return
            await self._refuse(scope, send, f"the body passed the {self._limit()} limit")

    def _limit(self) -> str:
        mib = self.max_bytes / (1024 * 1024)
        return f"{mib:g} MiB" if mib >= 1 else f"{self.max_bytes} bytes"

    async def _refuse(self, scope: Scope, send: Send, reason: str) -> None:
        self.refusals.refused(scope.get("method", "?"), scope.get("path", "?"), client_of(scope), 413, reason)
        api = str(scope.get("path", "")).startswith("/api/")
        await send_error(send, 413, "request body too large", problem=api)
