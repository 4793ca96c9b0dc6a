"""Provider webhooks: verified video events nudge the worker, once per delivery.

Order: the body cap (the app's middleware), the Standard Webhooks signature
through the SDK (``adapters.providers.openai_webhooks``), then the replay
check by ``webhook-id`` (:mod:`adapters.web.replays`), then the handler.
Answers 400 (one log line, no body) when the delivery does not verify or is
malformed, 200 for a verified event (also a repeat, which does nothing), and
500 when the handler fails, so OpenAI delivers the event again later.
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from openai import AsyncOpenAI

from adapters.providers.openai_webhooks import WEBHOOK_PATH, InvalidWebhook, OnVideoEvent, parse_video_event
from adapters.providers.webhooks import InvalidWebhook as InvalidEngineWebhook
from adapters.providers.webhooks import OnEvent, Verify
from adapters.web.limits import client_of
from adapters.web.refusals import RefusalLog
from adapters.web.replays import ReplayGuard

log = logging.getLogger(__name__)


def openai_webhook_router(
    client: AsyncOpenAI,
    secret: str,
    on_event: OnVideoEvent,
    refusals: RefusalLog,
    *,
    replays: ReplayGuard | None = None,
    path: str = WEBHOOK_PATH,
) -> APIRouter:
    """A router that accepts OpenAI video webhooks at ``path``.

    Args:
        client: The SDK client whose ``webhooks.verify_signature`` checks deliveries.
        secret: The ``whsec_…`` signing secret.
        on_event: Called once per verified, first-seen video event.
        refusals: Where refused deliveries are logged.
        replays: Remembers delivery ids (one per router by default: per process).
        path: Where the route listens.
    """
    router = APIRouter(include_in_schema=False)
    seen = replays if replays is not None else ReplayGuard()

    @router.post(path)
    async def receive(request: Request) -> Response:
        body = await request.body()
        try:
            event = parse_video_event(client, body, request.headers, secret)
        except InvalidWebhook as exc:
            refusals.refused("POST", path, client_of(request.scope), 400, f"OpenAI webhook: {exc}")
            return JSONResponse({"error": "invalid webhook"}, status_code=400)
        # Both headers are present and well-formed: the signature check needs them.
        delivery = request.headers["webhook-id"]
        if not seen.claim(delivery, int(request.headers["webhook-timestamp"])):
            log.info("OpenAI webhook %s delivered again; already handled", delivery[:64])
            return JSONResponse({"ok": True, "duplicate": True})
        if event is not None:
            try:
                await on_event(event.remote_id, event.completed)
            except Exception:
                seen.release(delivery)
                log.exception("handling OpenAI webhook %s for %s failed", event.event_id, event.remote_id)
                return JSONResponse({"error": "not processed"}, status_code=500)
        return JSONResponse({"ok": True})

    return router


def engine_webhook_router(
    path: str,
    provider: str,
    verify: Verify,
    on_event: OnEvent,
    refusals: RefusalLog,
    *,
    replays: ReplayGuard | None = None,
) -> APIRouter:
    """A router for one engine's webhook (fal, Replicate, Luma) at ``path``.

    The verifier gets the raw body, headers and query and returns the event (or ``None`` for a
    delivery to ignore); the same answers as OpenAI's: 400 unverified (one log line, no body),
    200 verified (a repeat does nothing), 500 when handling fails so the provider sends it again.
    """
    router = APIRouter(include_in_schema=False)
    seen = replays if replays is not None else ReplayGuard()

    @router.post(path)
    async def receive(request: Request) -> Response:
        body = await request.body()
        try:
            event = await verify(body, request.headers, request.query_params)
        except InvalidEngineWebhook as exc:
            refusals.refused("POST", path, client_of(request.scope), 400, f"{provider} webhook: {exc}")
            return JSONResponse({"error": "invalid webhook"}, status_code=400)
        if event is None:
            return JSONResponse({"ok": True})
        if not seen.claim(f"{provider}:{event.delivery_id}", time.time()):
            return JSONResponse({"ok": True, "duplicate": True})
        try:
            await on_event(event)
        except Exception:
            seen.release(f"{provider}:{event.delivery_id}")
            log.exception(
                "handling %s webhook %s for %s failed", provider, event.delivery_id, event.remote_id
            )
            return JSONResponse({"error": "not processed"}, status_code=500)
        return JSONResponse({"ok": True})

    return router
