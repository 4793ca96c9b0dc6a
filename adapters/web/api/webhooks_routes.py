"""``/api/v1/webhooks``: subscribe an endpoint (its secret shown once), list, delete, rotate, deliveries."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from adapters.web.api.context import ApiContext, Principal, api_context, principal
from adapters.web.api.problems import Problem
from adapters.web.api.tokens import Scope
from adapters.webhooks_out.targets import TargetRefused, check_target
from bot import texts
from bot.domain import new_id
from storage.api_store import DeliveryRecord, EndpointRecord

Ctx = Annotated[ApiContext, Depends(api_context)]
Who = Annotated[Principal, Depends(principal)]
EventType = Literal[
    "request.created",
    "brief.ready",
    "render.ready",
    "request.approved",
    "request.rejected",
    "request.failed",
    "request.cancelled",
]

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Subscribe(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: str = Field(min_length=8, max_length=2000)
    events: list[EventType] = Field(default_factory=list, max_length=7, description="Empty: every event.")


class EndpointOut(BaseModel):
    id: str
    url: str
    events: list[str]
    source: str
    enabled: bool
    disabled_reason: str | None
    created_at: datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(description="Shown once: verify every delivery's webhook-signature with it.")


class DeliveryOut(BaseModel):
    id: str
    message_id: str
    event_type: str
    request_id: str | None
    attempt: int
    status_code: int | None
    ok: bool
    error: str | None
    duration_ms: float
    at: datetime


def _out(endpoint: EndpointRecord) -> EndpointOut:
    return EndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        events=sorted(endpoint.events),
        source=endpoint.source,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        created_at=endpoint.created_at,
    )


def _delivery(d: DeliveryRecord) -> DeliveryOut:
    return DeliveryOut(
        id=d.id,
        message_id=d.message_id,
        event_type=d.event_kind,
        request_id=d.request_id,
        attempt=d.attempt,
        status_code=d.status_code,
        ok=d.ok,
        error=d.error,
        duration_ms=d.duration_ms,
        at=d.at,
    )


async def _own(context: ApiContext, who: Principal, endpoint_id: str) -> EndpointRecord:
    endpoint = await context.store.get_endpoint(endpoint_id)
    t = who.token
    if endpoint is None or (endpoint.platform, endpoint.workspace) != (t.platform, t.workspace):
        raise Problem(404, texts.WEBHOOK_NOT_FOUND, slug="not-found")
    return endpoint


@router.post("", status_code=201, response_model=EndpointCreated, summary="Subscribe an endpoint")
async def subscribe(body: Subscribe, context: Ctx, who: Who, response: Response) -> EndpointCreated:
    who.require(Scope.WEBHOOKS_MANAGE)
    try:
        await check_target(body.url, allow_private=context.app.settings.webhook_allow_private)
    except TargetRefused as exc:
        raise Problem(422, exc.user_message, slug="webhook-target-refused", title="Target refused") from None
    secret = new_secret()
    endpoint = EndpointRecord(
        id=new_id("whe"),
        platform=who.token.platform,
        workspace=who.token.workspace,
        url=body.url,
        secrets=(secret,),
        events=frozenset(body.events),
        source="api",
        created_at=context.app.clock.now(),
    )
    await context.store.add_endpoint(endpoint)
    response.headers["Location"] = f"/api/v1/webhooks/{endpoint.id}"
    return EndpointCreated(**_out(endpoint).model_dump(), secret=secret)


@router.get("", response_model=list[EndpointOut], summary="The workspace's endpoints")
async def list_endpoints(context: Ctx, who: Who) -> list[EndpointOut]:
    who.require(Scope.WEBHOOKS_MANAGE)
    return [_out(e) for e in await context.store.endpoints(who.token.platform, who.token.workspace)]


@router.get("/{endpoint_id}", response_model=EndpointOut, summary="One endpoint")
async def get_endpoint(endpoint_id: str, context: Ctx, who: Who) -> EndpointOut:
    who.require(Scope.WEBHOOKS_MANAGE)
    return _out(await _own(context, who, endpoint_id))


@router.delete("/{endpoint_id}", status_code=204, response_class=Response, summary="Unsubscribe")
async def delete_endpoint(endpoint_id: str, context: Ctx, who: Who) -> Response:
    who.require(Scope.WEBHOOKS_MANAGE)
    await _own(context, who, endpoint_id)
    t = who.token
    await context.store.delete_endpoint(endpoint_id, t.platform, t.workspace, context.app.clock.now())
    return Response(status_code=204)


@router.post(
    "/{endpoint_id}/rotate",
    response_model=EndpointCreated,
    summary="A new secret; the old one also signs for now",
)
async def rotate(endpoint_id: str, context: Ctx, who: Who) -> EndpointCreated:
    """Deliveries carry a signature for the new and the previous secret until the next rotation."""
    who.require(Scope.WEBHOOKS_MANAGE)
    endpoint = await _own(context, who, endpoint_id)
    secret = new_secret()
    await context.store.set_endpoint_secrets(
        endpoint.id, (secret, endpoint.secrets[0]), sorted(endpoint.events)
    )
    return EndpointCreated(**_out(endpoint).model_dump(), secret=secret)


@router.get(
    "/{endpoint_id}/deliveries", response_model=list[DeliveryOut], summary="Delivery attempts, newest first"
)
async def deliveries(endpoint_id: str, context: Ctx, who: Who) -> list[DeliveryOut]:
    who.require(Scope.WEBHOOKS_MANAGE)
    endpoint = await _own(context, who, endpoint_id)
    return [_delivery(d) for d in await context.store.deliveries(endpoint.id)]
