"""``POST /slack/events``: verify on the raw bytes, then parse, then hand to Bolt.

Bolt checks signatures too, but only after parsing the body (a malformed
unsigned body used to answer 500 with a traceback) and it logs a bad-signature
request's whole body at INFO. Here the order is: the body cap (the app's
middleware), Slack's v0 signature over the raw bytes with a 5-minute window,
a parse the way Bolt parses (so Bolt never fails on it), and only then Bolt's
FastAPI adapter. Every refusal is one log line without the body.

Answers: 400 for missing or malformed signature headers and for a signed body
that is not what Slack sends; 401 for a wrong or stale signature (as Bolt
answers); 413 for a body over the cap.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping

from fastapi import FastAPI, HTTPException, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.runtime.answers import AnswersFirst
from adapters.web.limits import client_of
from adapters.web.refusals import RefusalLog

TOLERANCE_SECONDS = 300  # Slack's documented replay window
_BOLT_SIGNATURE_LOG = "Invalid request signature detected"


class SlackRefusal(Exception):
    """A request that does not get past verification: its status and a short reason (never the body)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verify_slack_signature(
    headers: Mapping[str, str], body: bytes, secret: str, now: float | None = None
) -> None:
    """Check Slack's ``v0`` signature over the raw body.

    Raises:
        SlackRefusal: 400 when the headers are missing or malformed, 401 when the
            signature is stale (over 5 minutes either way) or does not match.
    """
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        raise SlackRefusal(400, "no Slack signature headers")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SlackRefusal(400, "malformed Slack request timestamp")
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_SECONDS:
        raise SlackRefusal(401, "Slack signature timestamp outside the 5-minute window")
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise SlackRefusal(401, "Slack signature does not match")


def check_slack_body(body: bytes, content_type: str | None) -> None:
    """Parse a verified body as Bolt will, so a malformed one is refused (400) before Bolt sees it.

    Raises:
        SlackRefusal: 400 when the body is not UTF-8, not JSON or form data Bolt can read, or not an object.
    """
    media_type = content_type.split(";")[0] if content_type else None  # as Bolt's extract_content_type
    try:
        text = body.decode("utf-8")
        if media_type != "application/json" and not text.startswith("{") and "payload" not in text:
            # Plain form data (every slash command): Bolt reads it with parse_qsl, which reads any
            # text into a dict, so parsing it here as well would refuse nothing.
            return
        parsed = parse_body(text, media_type)
    except (UnicodeDecodeError, ValueError) as exc:
        raise SlackRefusal(400, f"malformed Slack body ({type(exc).__name__})") from None
    if not isinstance(parsed, dict):
        raise SlackRefusal(400, "malformed Slack body (not an object)")


class _DropBoltSignatureLog(logging.Filter):
    """Bolt logs a bad-signature request with its whole body at INFO; clipdesk logs one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_BOLT_SIGNATURE_LOG)


def silence_bolt_signature_log() -> None:
    """Drop Bolt's own bad-signature log line (it carries the body); idempotent."""
    logger = logging.getLogger("slack_bolt.RequestVerification")
    if not any(isinstance(f, _DropBoltSignatureLog) for f in logger.filters):
        logger.addFilter(_DropBoltSignatureLog())


def mount_slack_events(
    web_app: FastAPI,
    bolt: AsyncApp,
    signing_secret: str,
    refusals: RefusalLog,
    *,
    path: str,
    clock: Callable[[], float] = time.time,
    answers: AnswersFirst | None = None,
) -> None:
    """Add ``POST path`` to ``web_app``: verified, parsed, then dispatched through Bolt's FastAPI adapter."""
    silence_bolt_signature_log()
    handler = AsyncSlackRequestHandler(bolt)

    async def verified(request: Request) -> None:
        body = await request.body()  # capped by the app's middleware; cached for Bolt's adapter
        try:
            verify_slack_signature(request.headers, body, signing_secret, clock())
            check_slack_body(body, request.headers.get("content-type"))
        except SlackRefusal as refusal:
            refusals.refused(request.method, path, client_of(request.scope), refusal.status, refusal.reason)
            raise HTTPException(refusal.status, "invalid request") from None

    async def events(request: Request) -> Response:
        await verified(request)  # called, not a dependency: FastAPI's dependency solving is per request
        return await handler.handle(request)

    web_app.add_api_route(path, events, methods=["POST"], include_in_schema=False)
    # First in the app's routes: a request is matched against the routes in order, and Slack's are
    # the ones that must be answered within 3 seconds (behind some twenty routes, matching one cost
    # about a tenth of what Bolt itself takes).
    routes = web_app.router.routes
    routes.insert(0, routes.pop())
    if answers is not None:
        # Outermost, so a request counts as being answered from the moment it reaches the app.
        web_app.add_middleware(AnsweringSlack, answers=answers, path=path)


class AnsweringSlack:
    """ASGI middleware: while a Slack request is in flight, work that can wait holds back."""

    def __init__(self, app: ASGIApp, *, answers: AnswersFirst, path: str) -> None:
        self.app = app
        self.answers = answers
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != self.path:
            await self.app(scope, receive, send)
            return
        with self.answers.answer():
            await self.app(scope, receive, send)
