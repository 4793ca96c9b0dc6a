"""Plug the REST API into the one web app: its store, rate limiter, error answers and routers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from adapters.web.api import problems
from adapters.web.api.context import ApiContext
from adapters.web.api.ratelimit import RateLimiter
from adapters.web.api.requests import router as requests_router
from adapters.web.app import include_api
from storage.api_store import SqlApiStore

if TYPE_CHECKING:
    from adapters.runtime.container import App


def add_api(app: App, web_app: FastAPI) -> ApiContext:
    """Serve ``/api/v1`` from ``web_app`` on ``app``'s store and use cases."""
    settings = app.settings
    context = ApiContext(
        app=app,
        store=SqlApiStore(app.store.engine),
        limiter=RateLimiter(settings.api_rate_per_minute, settings.api_rate_burst),
    )
    web_app.state.api = context
    problems.install(web_app)
    include_api(web_app, requests_router)
    from adapters.web.api.webhooks_routes import router as webhooks_router

    include_api(web_app, webhooks_router)
    return context
