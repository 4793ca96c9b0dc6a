"""The one web app: everything clipdesk serves over HTTP, as one FastAPI (ASGI) application.

Routes (see README "Security" for who may call what):

- ``GET /healthz``: liveness for load balancers (public, says nothing secret).
- ``GET /media/clips/{name}``: finished clips behind signed, expiring links (``media``).
- ``POST /webhooks/openai``: OpenAI video webhooks, Standard Webhooks signatures.
- ``POST /slack/events``: Slack's HTTP mode, mounted by the Slack platform when it starts.
- ``/api/v1/…``: the REST API's routers plug in with :func:`include_api`; its OpenAPI
  document is ``/api/v1/openapi.json`` and the docs page ``/api/docs``.

Every request passes the body cap first (:mod:`adapters.web.limits`); every
refusal is logged once, without the body (:mod:`adapters.web.refusals`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response

from adapters.metrics.asgi import AckTiming
from adapters.metrics.exporter import exposition
from adapters.web.limits import MAX_BODY_BYTES, BodyLimit
from adapters.web.media import media_router
from adapters.web.refusals import RefusalLog

if TYPE_CHECKING:
    from adapters.runtime.container import App

API_PREFIX = "/api/v1"
OPENAPI_URL = f"{API_PREFIX}/openapi.json"
DOCS_URL = "/api/docs"


def create_web_app(app: App, *, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The web app of one clipdesk process; chat platforms add their routes before it is served.

    Args:
        app: The process's wiring (store, worker, media store, settings).
        max_body_bytes: The body cap for every route.
    """
    web_app = FastAPI(
        title="clipdesk",
        version="1",
        openapi_url=OPENAPI_URL,
        docs_url=DOCS_URL,
        redoc_url=None,
    )
    web_app.state.refusals = RefusalLog()
    web_app.add_middleware(BodyLimit, refusals=web_app.state.refusals, max_bytes=max_body_bytes)

    async def healthz() -> JSONResponse:
        return JSONResponse({"ok": True, "worker": app.worker.config.owner, "busy": app.worker.busy})

    web_app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)

    async def metrics() -> Response:
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    web_app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    web_app.add_middleware(AckTiming)  # clipdesk_ack_seconds{platform="slack"}
    web_app.include_router(media_router(app.media, web_app.state.refusals))
    from adapters.web.api.routes import add_api

    add_api(app, web_app)  # /api/v1: bearer tokens, the chat's use cases, problem+json
    from adapters.web.review.routes import add_review

    add_review(app, web_app)  # /review: the review page, signed in by one-time links from the thread
    from adapters.providers.webhook_bridge import add_engine_webhooks, add_openai_webhook

    add_engine_webhooks(app, web_app)  # fal, Replicate, Luma when configured; ComfyUI pokes
    secret = app.settings.openai_webhook_secret
    if secret:
        add_openai_webhook(app, web_app, secret)
    return web_app


def include_api(web_app: FastAPI, router: APIRouter, **kwargs: Any) -> None:
    """Add a REST API router under ``/api/v1`` (it appears in the OpenAPI document)."""
    web_app.include_router(router, prefix=API_PREFIX, **kwargs)
