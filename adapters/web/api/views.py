"""How a request looks through the API: its briefs, renders with signed clip links, review and audit."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.web.api.schemas import (
    AuditOut,
    BriefOut,
    Cost,
    Links,
    RenderOut,
    RequestOut,
    ReviewOut,
    ShotOut,
)
from bot.domain import Brief, Render, RenderStatus, VideoRequest
from bot.domain_events import DomainEvent
from bot.event_payloads import ReviewDecision

if TYPE_CHECKING:
    from adapters.runtime.container import App

log = logging.getLogger(__name__)
BASE = "/api/v1/requests"


def links_for(request_id: str) -> Links:
    own = f"{BASE}/{request_id}"
    return Links(
        self=own,
        render=f"{own}/render",
        approve=f"{own}/approve",
        reject=f"{own}/reject",
        regenerate=f"{own}/regenerate",
        cancel=f"{own}/cancel",
    )


def clip_url(app: App, render: Render) -> str | None:
    """A signed, expiring link to the clip; ``None`` until it is ready (or if it cannot be linked)."""
    if render.status != RenderStatus.READY or not render.clip_path:
        return None
    try:
        return app.media.url_for(Path(render.clip_path))
    except ValueError as exc:
        log.warning("no link for the clip of %s: %s", render.id, exc)
        return None


def brief_out(brief: Brief) -> BriefOut:
    return BriefOut(
        id=brief.id,
        version=brief.version,
        prompt=brief.prompt,
        subject=brief.subject,
        setting=brief.setting,
        style=brief.style,
        lighting=brief.lighting,
        camera=brief.camera,
        seconds=brief.seconds,
        aspect=brief.aspect,
        shots=[
            ShotOut(index=s.index, seconds=s.seconds, description=s.description, camera=s.camera)
            for s in brief.shots
        ],
        refiner=brief.refiner,
        cost_estimate=brief.plan.cost_estimate if brief.plan else None,
        created_at=brief.created_at,
    )


def render_out(app: App, render: Render) -> RenderOut:
    return RenderOut(
        id=render.id,
        status=render.status.value,
        brief_version=render.brief_version,
        variant=render.variant,
        provider=render.provider,
        model=render.model,
        seconds=render.seconds,
        size=render.size,
        progress=render.progress,
        cost_estimate=render.cost_estimate,
        cost_actual=render.cost_actual,
        clip_url=clip_url(app, render),
        qc_findings=list(render.qc_findings),
        failure_reason=render.failure_reason,
    )


def latest_review(events: list[DomainEvent]) -> ReviewOut | None:
    for e in reversed(events):
        if isinstance(e.payload, ReviewDecision):
            return ReviewOut(
                decision=e.kind.value.removeprefix("review."),
                render_id=e.payload.render_id,
                reviewer=e.actor,
                reviewer_name=e.payload.reviewer_name,
                reason=e.payload.reason,
                at=e.at,
            )
    return None


async def request_out(app: App, request: VideoRequest) -> RequestOut:
    store = app.store
    briefs = await store.requests.briefs_for(request.id)
    renders = await store.renders.renders_for(request.id)
    events = await store.audit.audit_events(request_id=request.id)
    latest = max(briefs, key=lambda b: b.version) if briefs else None
    return RequestOut(
        id=request.id,
        status=request.status.value,
        prompt=request.raw_text,
        options=request.options.to_dict(),
        requester=request.requester,
        requester_name=request.requester_name,
        channel=request.target.channel or None,
        failure_reason=request.failure_reason,
        created_at=request.created_at,
        updated_at=request.updated_at,
        brief=brief_out(latest) if latest else None,
        brief_versions=sorted(b.version for b in briefs),
        renders=[render_out(app, r) for r in renders],
        cost=Cost(
            estimate=round(sum(r.cost_estimate for r in renders), 4),
            actual=round(sum(r.cost_actual or 0.0 for r in renders), 4),
        ),
        review=latest_review(events),
        audit=[
            AuditOut(
                kind=e.kind.value,
                actor=e.actor,
                at=e.at,
                from_status=e.from_status,
                to_status=e.to_status,
                render_id=e.render_id,
                data=e.data,
            )
            for e in events
        ],
        links=links_for(request.id),
    )
