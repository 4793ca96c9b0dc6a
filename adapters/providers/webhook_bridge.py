"""Mount the providers' webhooks on the web app and let them nudge the worker."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from openai import AsyncOpenAI

from adapters.runtime.container import App
from adapters.web.refusals import refusals_of
from adapters.web.webhooks import engine_webhook_router, openai_webhook_router

log = logging.getLogger(__name__)


def add_openai_webhook(app: App, web_app: FastAPI, secret: str) -> None:
    """Add ``POST /webhooks/openai`` to ``web_app``; a verified video event pokes ``app.worker``."""
    client = AsyncOpenAI(
        api_key=app.settings.video_api_key or "unused",
        base_url=app.settings.video_base_url,
        webhook_secret=secret,
    )

    async def on_event(remote_id: str, completed: bool) -> None:
        if not app.worker.poke(remote_id):
            # Another replica is polling it; its next poll (at most the poll cap away) sees the result.
            log.info("webhook for %s (completed=%s): not polled here", remote_id, completed)

    web_app.include_router(openai_webhook_router(client, secret, on_event, refusals_of(web_app)))
    app.closers.append(client.close)


def add_engine_webhooks(app: App, web_app: FastAPI) -> None:
    """Routes for the fal, Replicate and Luma webhooks that are configured, and ComfyUI's websocket pokes.

    Each verified delivery pokes the worker waiting on that job; see
    :mod:`adapters.providers.webhooks` for what a delivery may and may not do.
    """
    from adapters.providers.webhooks import ProviderEvent

    settings = app.settings
    refusals = refusals_of(web_app)

    async def on_event(event: ProviderEvent) -> None:
        if not app.worker.poke(event.remote_id):
            log.info("%s webhook for %s: not polled here", event.provider, event.remote_id)

    if settings.fal_key:
        from adapters.providers.fal_webhooks import WEBHOOK_PATH as FAL_PATH
        from adapters.providers.fal_webhooks import FalWebhookVerifier

        fal = FalWebhookVerifier(settings.fal_webhook_jwks_url)
        web_app.include_router(engine_webhook_router(FAL_PATH, "fal", fal, on_event, refusals))
    if settings.replicate_webhook_secret:
        from adapters.providers.replicate_webhooks import WEBHOOK_PATH as REPLICATE_PATH
        from adapters.providers.replicate_webhooks import ReplicateWebhookVerifier

        verifier = ReplicateWebhookVerifier(settings.replicate_webhook_secret)
        web_app.include_router(
            engine_webhook_router(REPLICATE_PATH, "replicate", verifier, on_event, refusals)
        )
    if settings.luma_webhook_secret:
        from adapters.providers.luma_webhooks import WEBHOOK_PATH as LUMA_PATH
        from adapters.providers.luma_webhooks import LumaCallbackVerifier

        luma = LumaCallbackVerifier(settings.luma_webhook_secret)
        web_app.include_router(engine_webhook_router(LUMA_PATH, "luma", luma, on_event, refusals))
    connect_pushes(app)


def connect_pushes(app: App) -> None:
    """Providers that learn of completion themselves (ComfyUI's websocket) poke the worker directly."""
    for name in app.providers.names:
        provider = app.providers.get(name)
        if hasattr(provider, "on_finished"):
            provider.on_finished = app.worker.poke
