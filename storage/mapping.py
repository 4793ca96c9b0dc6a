"""Convert between table rows and domain objects, once, at the edge of storage."""

from __future__ import annotations

from bot.domain import (
    AuditEvent,
    Brief,
    Delivery,
    Render,
    RenderOptions,
    RenderStatus,
    ReplyTarget,
    RequestStatus,
    Shot,
    VideoRequest,
)
from bot.policy import budget_key
from storage.tables import AuditRow, BriefRow, DeliveryRow, RenderRow, RequestRow


def request_row(request: VideoRequest) -> RequestRow:
    t = request.target
    return RequestRow(
        id=request.id,
        platform=t.platform,
        workspace=t.workspace,
        channel=t.channel,
        thread=t.thread,
        requester=request.requester,
        requester_name=request.requester_name,
        raw_text=request.raw_text,
        options=request.options.to_dict(),
        status=request.status.value,
        status_message=request.status_message,
        brief_message=request.brief_message,
        failure_reason=request.failure_reason,
        created_at=request.created_at,
        updated_at=request.updated_at,
    )


def to_request(row: RequestRow) -> VideoRequest:
    return VideoRequest(
        id=row.id,
        target=ReplyTarget(row.platform, row.workspace, row.channel, row.thread),
        requester=row.requester,
        requester_name=row.requester_name,
        raw_text=row.raw_text,
        options=RenderOptions.from_dict(row.options),
        status=RequestStatus(row.status),
        status_message=row.status_message,
        brief_message=row.brief_message,
        failure_reason=row.failure_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def brief_row(brief: Brief) -> BriefRow:
    return BriefRow(
        id=brief.id,
        request_id=brief.request_id,
        version=brief.version,
        prompt=brief.prompt,
        subject=brief.subject,
        setting=brief.setting,
        style=brief.style,
        lighting=brief.lighting,
        camera=brief.camera,
        negative_prompt=brief.negative_prompt,
        seconds=brief.seconds,
        aspect=brief.aspect,
        shots=[s.to_dict() for s in brief.shots],
        refiner=brief.refiner,
        note=brief.note,
        digest=brief.digest,
        created_at=brief.created_at,
    )


def to_brief(row: BriefRow) -> Brief:
    return Brief(
        id=row.id,
        request_id=row.request_id,
        version=row.version,
        prompt=row.prompt,
        subject=row.subject,
        setting=row.setting,
        style=row.style,
        lighting=row.lighting,
        camera=row.camera,
        negative_prompt=row.negative_prompt,
        seconds=row.seconds,
        aspect=row.aspect,
        shots=tuple(Shot.from_dict(s) for s in row.shots),
        refiner=row.refiner,
        note=row.note,
        created_at=row.created_at,
    )


def render_row(render: Render, request: VideoRequest) -> RenderRow:
    t = request.target
    row = RenderRow(
        id=render.id,
        request_id=render.request_id,
        brief_id=render.brief_id,
        brief_version=render.brief_version,
        provider=render.provider,
        model=render.model,
        seconds=render.seconds,
        size=render.size,
        status=render.status.value,
        user_key=budget_key(t, request.requester),
        channel_key=budget_key(t, t.channel),
        workspace_key=budget_key(t),
        created_at=render.created_at,
        updated_at=render.updated_at,
    )
    apply_render(row, render)
    return row


def apply_render(row: RenderRow, render: Render) -> None:
    """Copy the mutable fields of ``render`` onto ``row``."""
    row.provider = render.provider
    row.model = render.model
    row.size = render.size
    row.status = render.status.value
    row.remote_id = render.remote_id
    row.attempts = render.attempts
    row.progress = render.progress
    row.lease_owner = render.lease_owner
    row.lease_expires_at = render.lease_expires_at
    row.next_attempt_at = render.next_attempt_at
    row.cost_estimate = render.cost_estimate
    row.cost_actual = render.cost_actual
    row.clip_path = render.clip_path
    row.qc_findings = list(render.qc_findings)
    row.provenance_digest = render.provenance_digest
    row.failure_reason = render.failure_reason
    row.updated_at = render.updated_at


def to_render(row: RenderRow) -> Render:
    return Render(
        id=row.id,
        request_id=row.request_id,
        brief_id=row.brief_id,
        brief_version=row.brief_version,
        provider=row.provider,
        model=row.model,
        seconds=row.seconds,
        size=row.size,
        status=RenderStatus(row.status),
        variant=row.variant,
        remote_id=row.remote_id,
        attempts=row.attempts,
        progress=row.progress,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
        next_attempt_at=row.next_attempt_at,
        cost_estimate=row.cost_estimate,
        cost_actual=row.cost_actual,
        clip_path=row.clip_path,
        qc_findings=list(row.qc_findings),
        provenance_digest=row.provenance_digest,
        failure_reason=row.failure_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def audit_row(event: AuditEvent) -> AuditRow:
    return AuditRow(
        id=event.id,
        kind=event.kind,
        actor=event.actor,
        request_id=event.request_id,
        render_id=event.render_id,
        platform=event.platform,
        workspace=event.workspace,
        channel=event.channel,
        data=_jsonable(event.data),
        at=event.at,
    )


def to_audit(row: AuditRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        kind=row.kind,
        actor=row.actor,
        request_id=row.request_id,
        render_id=row.render_id,
        platform=row.platform,
        workspace=row.workspace,
        channel=row.channel,
        data=dict(row.data),
        at=row.at,
    )


def to_delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        id=row.id,
        key=row.key,
        request_id=row.request_id,
        platform=row.platform,
        kind=row.kind,
        payload=dict(row.payload),
        attempts=row.attempts,
        delivered_at=row.delivered_at,
    )


def _jsonable(data: dict[str, object]) -> dict[str, object]:
    """Audit data is free-form; keep what JSON can hold and stringify the rest."""
    out: dict[str, object] = {}
    for key, value in data.items():
        if value is None or isinstance(value, str | int | float | bool):
            out[key] = value
        elif isinstance(value, list | tuple):
            out[key] = [v if isinstance(v, str | int | float | bool) or v is None else str(v) for v in value]
        elif isinstance(value, dict):
            out[key] = _jsonable(value)
        else:
            out[key] = str(value)
    return out
