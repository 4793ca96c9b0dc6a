"""SQLModel tables. Only :mod:`storage.repository` reads and writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, TypeDecorator, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use datetime.now(UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def _ts(*, index: bool = False, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), index=index, nullable=nullable))


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RequestRow(SQLModel, table=True):
    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_thread", "platform", "channel", "thread"),
        Index("ix_requests_requester", "platform", "workspace", "requester"),
    )

    id: str = Field(primary_key=True, max_length=40)
    platform: str = Field(max_length=20)
    workspace: str = Field(max_length=64)
    channel: str = Field(max_length=64)
    thread: str | None = Field(default=None, max_length=64)
    requester: str = Field(max_length=64)
    requester_name: str = Field(default="", max_length=200)
    raw_text: str
    options: dict[str, Any] = _json()
    status: str = Field(index=True, max_length=32)
    failure_reason: str | None = None
    # The intake lease: the process turning this ask into a brief (resumed by another if it dies).
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = _ts()
    created_at: datetime = _ts(index=True, nullable=False)
    updated_at: datetime = _ts(nullable=False)


class BriefRow(SQLModel, table=True):
    __tablename__ = "briefs"
    __table_args__ = (UniqueConstraint("request_id", "version", name="uq_briefs_request_version"),)

    id: str = Field(primary_key=True, max_length=40)
    request_id: str = Field(foreign_key="requests.id", index=True, max_length=40)
    version: int
    prompt: str
    subject: str
    setting: str
    style: str
    lighting: str
    camera: str
    negative_prompt: str
    seconds: int
    aspect: str = Field(max_length=8)
    shots: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    refiner: str = Field(max_length=32)
    note: str = ""
    digest: str = Field(max_length=64)
    plan: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    explainer: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = _ts(nullable=False)


class RenderRow(SQLModel, table=True):
    __tablename__ = "renders"
    __table_args__ = (Index("ix_renders_claim", "status", "next_attempt_at", "created_at"),)

    id: str = Field(primary_key=True, max_length=40)
    request_id: str = Field(foreign_key="requests.id", index=True, max_length=40)
    brief_id: str = Field(foreign_key="briefs.id", max_length=40)
    brief_version: int
    provider: str = Field(max_length=32)
    model: str = Field(max_length=64)
    seconds: int
    size: str = Field(max_length=16)
    status: str = Field(max_length=32)
    variant: int = 1
    remote_id: str | None = Field(default=None, max_length=200)
    attempts: int = 0
    progress: int = 0
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = _ts()
    next_attempt_at: datetime | None = _ts()
    cost_estimate: float = 0.0
    cost_actual: float | None = None
    clip_path: str | None = None
    qc_findings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    provenance_digest: str | None = Field(default=None, max_length=128)
    failure_reason: str | None = None
    price_per_second: float = 0.0
    quality: str = Field(default="standard", max_length=16)
    pinned: bool = False
    submit_intent_at: datetime | None = _ts()
    submit_key: str | None = Field(default=None, max_length=120)
    submitted_at: datetime | None = _ts()
    uncertain: bool = False
    # A shot of a multi-shot cut (``shot`` set), or the cut's own render (``shot`` null).
    cut_id: str | None = Field(default=None, index=True, max_length=40)
    shot: int | None = None
    # Denormalised spend keys, so a budget check is one indexed sum.
    user_key: str = Field(index=True, max_length=200)
    channel_key: str = Field(index=True, max_length=200)
    workspace_key: str = Field(index=True, max_length=200)
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class CutRow(SQLModel, table=True):
    """One version of a request's multi-shot cut: its shots (render ids, lengths, seeds)."""

    __tablename__ = "cuts"
    __table_args__ = (UniqueConstraint("request_id", "version", name="uq_cuts_request_version"),)

    id: str = Field(primary_key=True, max_length=40)
    request_id: str = Field(foreign_key="requests.id", index=True, max_length=40)
    brief_id: str = Field(foreign_key="briefs.id", max_length=40)
    version: int
    render_id: str = Field(max_length=40)
    shots: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    draft: bool = False
    crossfade: float = 0.0
    created_at: datetime = _ts(nullable=False)


class ReviewRow(SQLModel, table=True):
    __tablename__ = "reviews"

    id: str = Field(primary_key=True, max_length=40)
    request_id: str = Field(foreign_key="requests.id", index=True, max_length=40)
    render_id: str = Field(foreign_key="renders.id", max_length=40)
    decision: str = Field(max_length=32)
    reviewer: str = Field(max_length=64)
    reviewer_name: str = Field(default="", max_length=200)
    reason: str = ""
    created_at: datetime = _ts(nullable=False)


class AuditRow(SQLModel, table=True):
    __tablename__ = "audit_events"

    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(index=True, max_length=64)
    actor: str = Field(max_length=64)
    request_id: str | None = Field(default=None, index=True, max_length=40)
    render_id: str | None = Field(default=None, max_length=40)
    platform: str = Field(default="", max_length=20)
    workspace: str = Field(default="", max_length=64)
    channel: str = Field(default="", max_length=64)
    data: dict[str, Any] = _json()
    from_status: str = Field(default="", max_length=32)
    to_status: str = Field(default="", max_length=32)
    at: datetime = _ts(index=True, nullable=False)


class OutboxRow(SQLModel, table=True):
    """One event for one sink. ``seq`` orders the entries of a request; ``key`` makes a delivery unique."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "delivered_at", "abandoned", "sink", "route"),
        Index("ix_outbox_request_order", "request_id", "sink", "seq"),
    )

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True, max_length=40)
    key: str = Field(unique=True, max_length=200)
    sink: str = Field(max_length=32)
    route: str = Field(default="", max_length=32)
    request_id: str | None = Field(default=None, max_length=40)
    kind: str = Field(max_length=64)
    event: dict[str, Any] = _json()
    attempts: int = 0
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = _ts()
    next_attempt_at: datetime | None = _ts()
    delivered_at: datetime | None = _ts()
    abandoned: bool = False
    ref: str | None = Field(default=None, max_length=200)
    last_error: str | None = None
    created_at: datetime = _ts(nullable=False)


class ThreadMessageRow(SQLModel, table=True):
    """The messages a sink posted for a request, by role, so later events update them in place."""

    __tablename__ = "thread_messages"

    request_id: str = Field(primary_key=True, max_length=40)
    role: str = Field(primary_key=True, max_length=80)
    ref: str = Field(max_length=200)


class SeenEventRow(SQLModel, table=True):
    """Platform event ids already handled, so a retried delivery is ignored."""

    __tablename__ = "seen_events"

    key: str = Field(primary_key=True, max_length=200)
    seen_at: datetime = _ts(nullable=False)
