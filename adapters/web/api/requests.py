"""``/api/v1/requests``: open, read, list and steer video requests through the chat's own use cases."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from adapters.web.api.context import ApiContext, Principal, api_context, principal
from adapters.web.api.problems import Problem
from adapters.web.api.schemas import (
    Accepted,
    ApproveBody,
    CreateRequest,
    Links,
    RegenerateBody,
    RejectBody,
    RequestOut,
    RequestPage,
    RequestSummary,
)
from adapters.web.api.tokens import Scope
from adapters.web.api.views import links_for, request_out
from bot import texts
from bot.access import load_for
from bot.commands import CancelRequest, ConfirmRender, Decide, OpenRequest, ReviseBrief, Revision
from bot.domain import Decision, RequestOptions, RequestStatus
from bot.options import parse_ask
from bot.ports.storage import RequestFilter

Ctx = Annotated[ApiContext, Depends(api_context)]
Who = Annotated[Principal, Depends(principal)]
IDEMPOTENCY_WAIT_SECONDS = 2.0

router = APIRouter(prefix="/requests", tags=["requests"])


def _fingerprint(body: CreateRequest) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(), sort_keys=True).encode()).hexdigest()


async def _replay(context: ApiContext, who: Principal, key: str, fingerprint: str) -> str | None:
    found = await context.store.idempotent_request(who.token.id, key)
    if found is None:
        return None
    if found[0] != fingerprint:
        raise Problem(422, texts.API_IDEMPOTENCY_REUSED, slug="idempotency-key-reused")
    return found[1]


@router.post("", status_code=202, response_model=Accepted, summary="Open a video request")
async def create_request(
    body: CreateRequest,
    context: Ctx,
    who: Who,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Accepted:
    """Record the ask (as ``/video`` would) and answer at once; the brief follows in the background."""
    who.require(Scope.REQUESTS_WRITE)
    fingerprint = _fingerprint(body)
    if idempotency_key:
        earlier = await _replay(context, who, idempotency_key, fingerprint)
        if earlier is not None:
            return await _accepted(context, who, earlier, response)
    ask = parse_ask(
        body.prompt,
        given=RequestOptions(
            seconds=body.seconds,
            aspect=body.aspect,
            provider=body.provider,
            model=body.model,
            variants=body.variants,
            quality=body.quality,
            shots=body.shots,
            draft=body.draft,
            audience=body.audience,
            captions=body.captions,
        ),
    )
    event_key = f"api:{who.token.id}:{idempotency_key}" if idempotency_key else None
    command = OpenRequest(who.caller(body.channel or ""), ask.text, ask.options, event_key)
    request = await context.app.usecases.intake.accept(command)
    if request is None:  # the same key is being recorded by a concurrent call: answer with its request
        assert idempotency_key is not None
        earlier = await _await_replay(context, who, idempotency_key, fingerprint)
        return await _accepted(context, who, earlier, response)
    if idempotency_key:
        now = context.app.clock.now()
        await context.store.remember_idempotent(who.token.id, idempotency_key, fingerprint, request.id, now)
    context.spawn(context.app.usecases.intake.process(request.id), f"api-intake-{request.id}")
    response.headers["Location"] = links_for(request.id).self
    return Accepted(id=request.id, status=request.status.value, links=links_for(request.id))


async def _await_replay(context: ApiContext, who: Principal, key: str, fingerprint: str) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + IDEMPOTENCY_WAIT_SECONDS
    while loop.time() < deadline:
        found = await _replay(context, who, key, fingerprint)
        if found is not None:
            return found
        await asyncio.sleep(0.05)
    raise Problem(409, texts.API_IDEMPOTENCY_BUSY, slug="idempotency-key-busy", headers={"Retry-After": "1"})


async def _accepted(context: ApiContext, who: Principal, request_id: str, response: Response) -> Accepted:
    request = await load_for(context.app.store.requests, who.caller(), request_id)
    response.headers["Location"] = links_for(request.id).self
    response.headers["Idempotent-Replayed"] = "true"
    return Accepted(id=request.id, status=request.status.value, links=links_for(request.id))


@router.get(
    "/{request_id}", response_model=RequestOut, summary="A request with its briefs, renders, review and audit"
)
async def get_request(request_id: str, context: Ctx, who: Who) -> RequestOut:
    who.require(Scope.REQUESTS_READ)
    request = await load_for(context.app.store.requests, who.caller(), request_id)
    return await request_out(context.app, request)


@router.get("", response_model=RequestPage, summary="The workspace's requests, newest first")
async def list_requests(
    context: Ctx,
    who: Who,
    status: Annotated[list[RequestStatus] | None, Query(description="Only these statuses.")] = None,
    requester: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="Created at or after (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> RequestPage:
    who.require(Scope.REQUESTS_READ)
    if since is not None and since.tzinfo is None:
        raise Problem(422, "`since` needs a time zone, e.g. 2026-11-01T00:00:00Z.", slug="invalid-input")
    where = RequestFilter(
        platform=who.token.platform,
        workspace=who.token.workspace,
        statuses=tuple(status or ()),
        requester=requester,
        since=since,
    )
    try:
        page = await context.app.store.requests.list_requests(where, limit=limit, cursor=cursor)
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, texts.API_BAD_CURSOR, slug="bad-cursor") from None
    items = [
        RequestSummary(
            id=r.id,
            status=r.status.value,
            prompt=r.raw_text,
            requester=r.requester,
            created_at=r.created_at,
            updated_at=r.updated_at,
            links=links_for(r.id),
        )
        for r in page.items
    ]
    return RequestPage(items=items, next_cursor=page.next_cursor)


@router.post(
    "/{request_id}/render", response_model=RequestOut, summary="Render the latest brief (the Render button)"
)
async def render(request_id: str, context: Ctx, who: Who) -> RequestOut:
    who.require(Scope.REQUESTS_WRITE)
    await context.app.usecases.confirm.confirm(ConfirmRender(who.caller(), request_id))
    return await _current(context, who, request_id)


@router.post("/{request_id}/approve", response_model=RequestOut, summary="Approve the clip in review")
async def approve(request_id: str, context: Ctx, who: Who, body: ApproveBody | None = None) -> RequestOut:
    who.require(Scope.REVIEWS_DECIDE)
    render_id = body.render_id if body else None
    await context.app.usecases.decisions.decide(
        Decide(who.caller(), request_id, Decision.APPROVED, render_id)
    )
    return await _current(context, who, request_id)


@router.post(
    "/{request_id}/reject", response_model=RequestOut, summary="Reject the clip in review, with a reason"
)
async def reject(request_id: str, body: RejectBody, context: Ctx, who: Who) -> RequestOut:
    who.require(Scope.REVIEWS_DECIDE)
    decide = Decide(who.caller(), request_id, Decision.REJECTED, body.render_id, body.reason)
    await context.app.usecases.decisions.decide(decide)
    return await _current(context, who, request_id)


@router.post("/{request_id}/regenerate", response_model=RequestOut, summary="A fresh brief and attempt")
async def regenerate(
    request_id: str, context: Ctx, who: Who, body: RegenerateBody | None = None
) -> RequestOut:
    who.require(Scope.REQUESTS_WRITE)
    revise = ReviseBrief(
        who.caller(), request_id, Revision.REGENERATE, instruction=body.instruction if body else None
    )
    await context.app.usecases.revise.revise(revise)
    return await _current(context, who, request_id)


@router.post("/{request_id}/cancel", response_model=RequestOut, summary="Cancel before it renders")
async def cancel(request_id: str, context: Ctx, who: Who) -> RequestOut:
    who.require(Scope.REQUESTS_WRITE)
    await context.app.usecases.cancel.cancel(CancelRequest(who.caller(), request_id))
    return await _current(context, who, request_id)


async def _current(context: ApiContext, who: Principal, request_id: str) -> RequestOut:
    request = await load_for(context.app.store.requests, who.caller(), request_id)
    return await request_out(context.app, request)


__all__ = ["Links", "router"]
