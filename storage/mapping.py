"""Convert between table rows and domain objects, once, at the edge of storage."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.cuts import Cut, CutShot
from bot.domain import (
    Brief,
    Plan,
    Render,
    RenderStatus,
    ReplyTarget,
    RequestOptions,
    RequestStatus,
    Review,
    Shot,
    VideoRequest,
)
from bot.domain_events import DomainEvent, restore
from bot.explainers import Explainer
from bot.policy import budget_key

Row = Mapping[Any, Any]  # a RowMapping, or a plain dict (outbox documents)


def request_values(request: VideoRequest) -> dict[str, Any]:
    t = request.target
    return {
        "id": request.id,
        "platform": t.platform,
        "workspace": t.workspace,
        "channel": t.channel,
        "thread": t.thread,
        "requester": request.requester,
        "requester_name": request.requester_name,
        "raw_text": request.raw_text,
        "options": request.options.to_dict(),
        "status": request.status.value,
        "failure_reason": request.failure_reason,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
    }


def to_request(row: Row) -> VideoRequest:
    return VideoRequest(
        id=row["id"],
        target=ReplyTarget(row["platform"], row["workspace"], row["channel"], row["thread"]),
        requester=row["requester"],
        requester_name=row["requester_name"],
        raw_text=row["raw_text"],
        options=RequestOptions.from_dict(row["options"]),
        status=RequestStatus(row["status"]),
        failure_reason=row["failure_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def brief_values(brief: Brief) -> dict[str, Any]:
    return {
        "id": brief.id,
        "request_id": brief.request_id,
        "version": brief.version,
        "prompt": brief.prompt,
        "subject": brief.subject,
        "setting": brief.setting,
        "style": brief.style,
        "lighting": brief.lighting,
        "camera": brief.camera,
        "negative_prompt": brief.negative_prompt,
        "seconds": brief.seconds,
        "aspect": brief.aspect,
        "shots": [s.to_dict() for s in brief.shots],
        "refiner": brief.refiner,
        "note": brief.note,
        "digest": brief.digest,
        "plan": brief.plan.to_dict() if brief.plan else None,
        "explainer": brief.explainer.to_dict() if brief.explainer else None,
        "created_at": brief.created_at,
    }


def to_brief(row: Row) -> Brief:
    return Brief(
        id=row["id"],
        request_id=row["request_id"],
        version=row["version"],
        prompt=row["prompt"],
        subject=row["subject"],
        setting=row["setting"],
        style=row["style"],
        lighting=row["lighting"],
        camera=row["camera"],
        negative_prompt=row["negative_prompt"],
        seconds=row["seconds"],
        aspect=row["aspect"],
        shots=tuple(Shot.from_dict(s) for s in row["shots"]),
        refiner=row["refiner"],
        note=row["note"],
        plan=Plan.from_dict(row["plan"]) if row["plan"] else None,
        explainer=Explainer.from_dict(row["explainer"]) if row.get("explainer") else None,
        created_at=row["created_at"],
    )


def render_state(render: Render) -> dict[str, Any]:
    """The mutable fields of a render, as a worker saves them after each step."""
    return {
        "provider": render.provider,
        "model": render.model,
        "size": render.size,
        "status": render.status.value,
        "remote_id": render.remote_id,
        "attempts": render.attempts,
        "progress": render.progress,
        "next_attempt_at": render.next_attempt_at,
        "cost_estimate": render.cost_estimate,
        "cost_actual": render.cost_actual,
        "clip_path": render.clip_path,
        "qc_findings": list(render.qc_findings),
        "provenance_digest": render.provenance_digest,
        "failure_reason": render.failure_reason,
        "price_per_second": render.price_per_second,
        "quality": render.quality,
        "pinned": render.pinned,
        "submit_intent_at": render.submit_intent_at,
        "submit_key": render.submit_key,
        "submitted_at": render.submitted_at,
        "uncertain": render.uncertain,
        "updated_at": render.updated_at,
    }


def cut_values(cut: Cut) -> dict[str, Any]:
    return {
        "id": cut.id,
        "request_id": cut.request_id,
        "brief_id": cut.brief_id,
        "version": cut.version,
        "render_id": cut.render_id,
        "shots": [s.to_dict() for s in cut.shots],
        "draft": cut.draft,
        "crossfade": cut.crossfade,
        "created_at": cut.created_at,
    }


def to_cut(row: Row) -> Cut:
    return Cut(
        id=row["id"],
        request_id=row["request_id"],
        brief_id=row["brief_id"],
        version=row["version"],
        render_id=row["render_id"],
        shots=tuple(CutShot.from_dict(s) for s in row["shots"]),
        draft=row["draft"],
        crossfade=row["crossfade"],
        created_at=row["created_at"],
    )


def render_values(render: Render, request: VideoRequest) -> dict[str, Any]:
    t = request.target
    return {
        **render_state(render),
        "id": render.id,
        "request_id": render.request_id,
        "brief_id": render.brief_id,
        "brief_version": render.brief_version,
        "seconds": render.seconds,
        "variant": render.variant,
        "cut_id": render.cut_id,
        "shot": render.shot,
        "lease_owner": render.lease_owner,
        "lease_expires_at": render.lease_expires_at,
        # Denormalised spend keys, so a budget check is one indexed sum.
        "user_key": budget_key(t, request.requester),
        "channel_key": budget_key(t, t.channel),
        "workspace_key": budget_key(t),
        "created_at": render.created_at,
    }


def to_render(row: Row) -> Render:
    return Render(
        id=row["id"],
        request_id=row["request_id"],
        brief_id=row["brief_id"],
        brief_version=row["brief_version"],
        provider=row["provider"],
        model=row["model"],
        seconds=row["seconds"],
        size=row["size"],
        status=RenderStatus(row["status"]),
        variant=row["variant"],
        remote_id=row["remote_id"],
        attempts=row["attempts"],
        progress=row["progress"],
        lease_owner=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
        next_attempt_at=row["next_attempt_at"],
        cost_estimate=row["cost_estimate"],
        cost_actual=row["cost_actual"],
        clip_path=row["clip_path"],
        qc_findings=list(row["qc_findings"]),
        provenance_digest=row["provenance_digest"],
        failure_reason=row["failure_reason"],
        price_per_second=row["price_per_second"],
        quality=row["quality"],
        pinned=row["pinned"],
        submit_intent_at=row["submit_intent_at"],
        submit_key=row["submit_key"],
        submitted_at=row["submitted_at"],
        uncertain=row["uncertain"],
        cut_id=row["cut_id"],
        shot=row["shot"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def review_values(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "request_id": review.request_id,
        "render_id": review.render_id,
        "decision": review.decision.value,
        "reviewer": review.reviewer,
        "reviewer_name": review.reviewer_name,
        "reason": review.reason,
        "created_at": review.created_at,
    }


def audit_values(event: DomainEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind.value,
        "actor": event.actor,
        "request_id": event.request_id,
        "render_id": event.render_id,
        "platform": event.platform,
        "workspace": event.workspace,
        "channel": event.channel,
        "data": jsonable(event.data),
        "from_status": event.from_status,
        "to_status": event.to_status,
        "at": event.at,
    }


def to_event(row: Row) -> DomainEvent:
    return restore(
        row["kind"],
        dict(row["data"]),
        id=row["id"],
        actor=row["actor"],
        at=row["at"],
        request_id=row["request_id"],
        render_id=row["render_id"],
        platform=row["platform"],
        workspace=row["workspace"],
        channel=row["channel"],
        from_status=row["from_status"],
        to_status=row["to_status"],
    )


def event_document(event: DomainEvent, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole event as one JSON document (what an outbox entry carries); ``values`` are its
    :func:`audit_values` when the caller has them already."""
    return {**(audit_values(event) if values is None else values), "at": event.at.isoformat()}


def from_event_document(doc: Row) -> DomainEvent:
    return to_event({**doc, "at": datetime.fromisoformat(str(doc["at"]))})


def jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """Event data is JSON-friendly by construction; anything else is kept as its text."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if value is None or isinstance(value, str | int | float | bool):
            out[key] = value
        elif isinstance(value, list | tuple):
            out[key] = [v if isinstance(v, str | int | float | bool) or v is None else str(v) for v in value]
        elif isinstance(value, dict):
            out[key] = jsonable(value)
        else:
            out[key] = str(value)
    return out
