"""Mount the OpenAI video webhook on the web app and let it nudge the worker."""

from __future__ import annotations

import logging

from aiohttp import web
from openai import AsyncOpenAI

from adapters.providers.openai_webhooks import webhook_app_routes
from adapters.runtime.container import App

log = logging.getLogger(__name__)


def add_openai_webhook(app: App, web_app: web.Application, secret: str) -> None:
    client = AsyncOpenAI(
        api_key=app.settings.video_api_key or "unused",
        base_url=app.settings.video_base_url,
        webhook_secret=secret,
    )

    async def on_event(remote_id: str, completed: bool) -> None:
        if not app.worker.poke(remote_id):
            # Another replica is polling it; its next poll (at most the poll cap away) sees the result.
            log.info("webhook for %s (completed=%s): not polled here", remote_id, completed)

    web_app.router.add_routes(webhook_app_routes(client, secret, on_event))
    app.closers.append(client.close)
