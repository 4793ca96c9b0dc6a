"""The body cap reads no more than it allows, and refusals cost a bounded trickle of log lines."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from adapters.web.limits import BodyLimit
from adapters.web.refusals import RefusalLog

CAP = 1024 * 1024
CHUNK = 64 * 1024


class Stream:
    """An ASGI ``receive`` that hands out ``total`` bytes in chunks and counts what was taken."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.taken = 0

    async def __call__(self) -> Message:
        piece = min(CHUNK, self.total - self.taken)
        self.taken += piece
        return {"type": "http.request", "body": b"x" * piece, "more_body": self.taken < self.total}


async def echo_length(scope: Scope, receive: Receive, send: Send) -> None:
    body = await Request(scope, receive).body()
    await PlainTextResponse(str(len(body)))(scope, receive, send)


def http_scope(length: int | None) -> dict[str, Any]:
    headers = [(b"content-length", str(length).encode())] if length is not None else []
    return {"type": "http", "method": "POST", "path": "/x", "headers": headers, "client": ("10.0.0.9", 1)}


async def call(app: BodyLimit, scope: dict[str, Any], receive: Stream) -> tuple[int, bytes]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


async def test_a_declared_length_over_the_cap_is_refused_without_reading_a_byte() -> None:
    stream = Stream(8 * CAP)
    status, _ = await call(BodyLimit(echo_length, RefusalLog()), http_scope(8 * CAP), stream)
    assert status == 413 and stream.taken == 0


async def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_cap() -> None:
    stream = Stream(8 * CAP)
    status, _ = await call(BodyLimit(echo_length, RefusalLog()), http_scope(None), stream)
    assert status == 413
    assert CAP < stream.taken <= CAP + CHUNK  # one chunk past the cap, never the 8 MiB


async def test_a_body_at_the_cap_passes_whole() -> None:
    stream = Stream(CAP)
    status, body = await call(BodyLimit(echo_length, RefusalLog()), http_scope(CAP), stream)
    assert (status, body) == (200, str(CAP).encode())


async def test_a_lying_content_length_is_still_capped_by_what_arrives() -> None:
    stream = Stream(3 * CAP)
    status, _ = await call(BodyLimit(echo_length, RefusalLog()), http_scope(100), stream)
    assert status == 413 and stream.taken <= CAP + CHUNK


def test_a_flood_of_refusals_writes_a_burst_then_a_trickle(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    now = [0.0]
    refusals = RefusalLog(burst=5, per_second=1.0, clock=lambda: now[0])
    for i in range(1000):
        now[0] = i / 100  # 1000 refusals in 10 s
        refusals.refused("POST", "/slack/events", "10.0.0.9", 401, "Slack signature does not match")
    lines = [r.getMessage() for r in caplog.records]
    assert 5 <= len(lines) <= 5 + 11  # the burst, then about one a second
    assert "more refusals not logged" in lines[-1]
    assert all(len(line) < 200 for line in lines)


def test_a_long_reason_is_clipped_to_one_short_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    RefusalLog().refused("POST", "/x", None, 400, "why\n" * 1000)
    [line] = [r.getMessage() for r in caplog.records]
    assert "\n" not in line and len(line) < 200
