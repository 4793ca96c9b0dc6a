"""Mount the OpenAI video webhook on the web app and let it nudge the worker."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from openai import AsyncOpenAI

from adapters.runtime.container import App
from adapters.web.refusals import refusals_of
from adapters.web.webhooks import openai_webhook_router

log = logging.getLogger(__name__)


def add_openai_webhook(app: App, web_app: FastAPI, secret: str) -> None:
    """Add ``POST /webhooks/openai`` to ``web_app``; a verified video event pokes ``app.worker``."""
    client = AsyncOpenAI(
        api_key=app.settings.openai_api_key or "unused",
        base_url=app.settings.openai_base_url,
        webhook_secret=secret,
    )

    async def on_event(remote_id: str, completed: bool) -> None:
        if not app.worker.poke(remote_id):
            # Another replica is polling it; its next poll (at most the poll cap away) sees the result.
            log.info("webhook for %s (completed=%s): not polled here", remote_id, completed)

    web_app.include_router(openai_webhook_router(client, secret, on_event, refusals_of(web_app)))
    app.closers.append(client.close)
