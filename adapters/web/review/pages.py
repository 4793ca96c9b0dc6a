"""The review page's routes: sign-in by one-time link, the queue, a request page, decisions, live updates.

Decisions go through the same use cases as the chat buttons, so the thread
hears of them through the outbox like any other decision; what the page offers
is decided by the same policy (an approver sees Approve and Reject). Every POST
carries the session's CSRF token; the session cookie is HttpOnly and
SameSite=Lax. Live updates are server-sent events: the page reloads itself
when the request changes, whichever way it was changed (thread, API, page).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from adapters.web.api.views import clip_url
from adapters.web.review.signing import BadSignature, Expired, Reviewer, Session, Signer
from bot import texts
from bot.access import load_for
from bot.commands import Actor, Caller, Decide, ReviseBrief, Revision
from bot.domain import Decision, ReplyTarget, RequestStatus, VideoRequest
from bot.errors import NotAllowed, UserError
from bot.ports.storage import RequestFilter

if TYPE_CHECKING:
    from adapters.runtime.container import App

log = logging.getLogger(__name__)
COOKIE = "clipdesk_review"
SESSION_TTL = timedelta(hours=8)
LIVE_POLL_SECONDS = 0.25
_TIMESTAMP = re.compile(r"(\d+(?:\.\d+)?)\s*s\b")
R = RequestStatus
QUEUE_ORDER = [
    R.IN_REVIEW,
    R.RENDERING,
    R.QUEUED,
    R.AWAITING_CONFIRMATION,
    R.CLARIFYING,
    R.REFINING,
    R.RECEIVED,
]
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)


class ReviewPages:
    """Everything the routes share: the process's wiring and the signer."""

    def __init__(self, app: App, signer: Signer, *, secure_cookie: bool) -> None:
        self.app = app
        self.signer = signer
        self.secure_cookie = secure_cookie

    def page(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(_templates.get_template(name).render(**values), status_code=status)

    def refusal(self, status: int, message: str) -> HTMLResponse:
        return self.page("message.html", status, title="clipdesk review", message=message)


def _pages(request: Request) -> ReviewPages:
    pages: ReviewPages = request.app.state.review
    return pages


class _NoSession(Exception):
    pass


def _session(request: Request) -> Session:
    pages = _pages(request)
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        raise _NoSession
    try:
        return pages.signer.read_session(cookie, pages.app.clock.now())
    except (BadSignature, Expired):
        raise _NoSession from None


def caller_of(reviewer: Reviewer) -> Caller:
    return Caller(
        Actor(reviewer.user_id, reviewer.name), ReplyTarget(reviewer.platform, reviewer.workspace, "")
    )


Pages = Annotated[ReviewPages, Depends(_pages)]
router = APIRouter(prefix="/review", include_in_schema=False)


@router.get("/login")
async def login(t: str, pages: Pages) -> Response:
    """Use a one-time link from the thread: start a session, then open the page it names."""
    now = pages.app.clock.now()
    try:
        reviewer, request_id, nonce = pages.signer.read_login(t, now)
    except Expired:
        return pages.refusal(403, texts.REVIEW_LINK_EXPIRED)
    except (BadSignature, KeyError):
        return pages.refusal(403, texts.REVIEW_LINK_INVALID)
    async with pages.app.store.transaction() as tx:
        first = await tx.remember_event(f"review-login:{nonce}")
    if not first:
        return pages.refusal(403, texts.REVIEW_LINK_USED)
    target = f"/review/requests/{request_id}" if request_id else "/review"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        pages.signer.session_cookie(reviewer, now, SESSION_TTL),
        max_age=int(SESSION_TTL.total_seconds()),
        path="/review",
        httponly=True,
        samesite="lax",
        secure=pages.secure_cookie,
    )
    return response


@router.get("")
async def queue(request: Request, pages: Pages) -> Response:
    try:
        session = _session(request)
    except _NoSession:
        return pages.refusal(401, texts.REVIEW_SIGN_IN)
    r = session.reviewer
    page = await pages.app.store.requests.list_requests(
        RequestFilter(platform=r.platform, workspace=r.workspace), limit=200, cursor=None
    )
    rank = {status: i for i, status in enumerate(QUEUE_ORDER)}
    rows = sorted(page.items, key=lambda q: (rank.get(q.status, len(rank)), -q.created_at.timestamp()))
    return pages.page("queue.html", reviewer=r, rows=rows, waiting=sum(q.status == R.IN_REVIEW for q in rows))


def _qc(findings: list[str]) -> list[tuple[str, float]]:
    """Each finding with the second it names (0 when it names none), so a click seeks the player there."""
    found = []
    for finding in findings:
        match = _TIMESTAMP.search(finding)
        found.append((finding, float(match.group(1)) if match else 0.0))
    return found


async def _view(
    pages: ReviewPages, session: Session, request: VideoRequest, error: str = ""
) -> dict[str, Any]:
    app = pages.app
    caller = caller_of(session.reviewer)
    policy = app.policy_for(request.target)
    try:
        policy.check_can_decide(caller.actor, request, "approve")
        can_decide = request.status == R.IN_REVIEW
    except NotAllowed:
        can_decide = False
    try:
        policy.check_can_steer(caller.actor, request, "change")
        can_regenerate = request.status in (
            R.IN_REVIEW,
            R.FAILED,
            R.CHANGES_REQUESTED,
            R.AWAITING_CONFIRMATION,
        )
    except NotAllowed:
        can_regenerate = False
    briefs = sorted(await app.store.requests.briefs_for(request.id), key=lambda b: b.version, reverse=True)
    renders = sorted(
        await app.store.renders.renders_for(request.id), key=lambda x: x.created_at, reverse=True
    )
    events = await app.store.audit.audit_events(request_id=request.id)
    versions = [
        {"render": x, "url": clip_url(app, x), "qc": _qc(list(x.qc_findings))}
        for x in renders
        if x.status.value == "ready" or x.clip_path
    ]
    return {
        "reviewer": session.reviewer,
        "csrf": session.csrf,
        "request": request,
        "briefs": briefs,
        "renders": renders,
        "versions": versions,
        "events": events,
        "cost_estimate": sum(x.cost_estimate for x in renders),
        "cost_actual": sum(x.cost_actual or 0.0 for x in renders),
        "can_decide": can_decide,
        "can_regenerate": can_regenerate,
        "error": error,
        "fingerprint": await _fingerprint(app, request.id),
    }


@router.get("/requests/{request_id}")
async def request_page(request_id: str, request: Request, pages: Pages) -> Response:
    try:
        session = _session(request)
    except _NoSession:
        return pages.refusal(401, texts.REVIEW_SIGN_IN)
    try:
        video = await load_for(pages.app.store.requests, caller_of(session.reviewer), request_id)
    except UserError as exc:
        return pages.refusal(404, exc.user_message)
    return pages.page("request.html", **await _view(pages, session, video))


async def _decide(
    pages: ReviewPages, request: Request, request_id: str, csrf: str, action: str, reason: str
) -> Response:
    try:
        session = _session(request)
    except _NoSession:
        return pages.refusal(401, texts.REVIEW_SIGN_IN)
    if not csrf or csrf != session.csrf:
        return pages.refusal(403, texts.REVIEW_CSRF)
    caller = caller_of(session.reviewer)
    uc = pages.app.usecases
    try:
        if action == "approve":
            await uc.decisions.decide(Decide(caller, request_id, Decision.APPROVED))
        elif action == "reject":
            await uc.decisions.decide(Decide(caller, request_id, Decision.REJECTED, reason=reason))
        else:
            await uc.revise.revise(
                ReviseBrief(caller, request_id, Revision.REGENERATE, instruction=reason or None)
            )
    except UserError as exc:
        status = 403 if isinstance(exc, NotAllowed) else 409
        try:
            video = await load_for(pages.app.store.requests, caller, request_id)
        except UserError:
            return pages.refusal(404, exc.user_message)
        return pages.page("request.html", status, **await _view(pages, session, video, exc.user_message))
    return RedirectResponse(f"/review/requests/{request_id}", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded form of a POST (the page's forms send nothing else); the body is capped upstream."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items() if values}


@router.post("/requests/{request_id}/{action}")
async def decide(request_id: str, action: str, request: Request, pages: Pages) -> Response:
    """Approve, Reject (with a reason) or Regenerate from the page's forms."""
    if action not in ("approve", "reject", "regenerate"):
        return pages.refusal(404, texts.NOT_FOUND)
    form = await _form(request)
    return await _decide(
        pages, request, request_id, form.get("csrf", ""), action, form.get("reason", "").strip()
    )


async def _fingerprint(app: App, request_id: str) -> str:
    """Changes whenever the request, one of its renders or its audit trail does."""
    video = await app.store.requests.get_request(request_id)
    renders = await app.store.renders.renders_for(request_id)
    events = await app.store.audit.audit_events(request_id=request_id)
    parts = [
        video.status.value if video else "",
        video.updated_at.isoformat() if video else "",
        *(f"{x.id}:{x.status.value}:{x.progress}" for x in renders),
        str(len(events)),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@router.get("/requests/{request_id}/events")
async def live(request_id: str, request: Request, pages: Pages, since: str = "") -> Response:
    """Server-sent events: ``change`` whenever the request's fingerprint moves (any process's doing)."""
    try:
        session = _session(request)
        await load_for(pages.app.store.requests, caller_of(session.reviewer), request_id)
    except (_NoSession, UserError):
        return Response(status_code=404)

    async def stream() -> AsyncIterator[str]:
        seen = since
        idle = 0.0
        yield "retry: 1000\n\n"
        while not await request.is_disconnected():
            current = await _fingerprint(pages.app, request_id)
            if current != seen:
                if seen:
                    yield f"event: change\ndata: {json.dumps({'fingerprint': current})}\n\n"
                seen = current
                idle = 0.0
            elif idle >= 15:
                yield ": still here\n\n"
                idle = 0.0
            await asyncio.sleep(LIVE_POLL_SECONDS)
            idle += LIVE_POLL_SECONDS

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
