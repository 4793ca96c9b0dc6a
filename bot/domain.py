"""The domain of clipdesk: requests, briefs, renders, reviews and the audit trail.

These are plain dataclasses. Storage maps them to tables; adapters map them to
chat messages. Nothing here knows how it is stored or sent.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def new_id(prefix: str) -> str:
    """A short, sortable-enough, globally unique id such as ``req_3f9a…``."""
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class RequestStatus(StrEnum):
    RECEIVED = "received"
    REFINING = "refining"
    CLARIFYING = "clarifying"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    QUEUED = "queued"
    RENDERING = "rendering"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    FAILED = "failed"
    CANCELLED = "cancelled"
    BLOCKED = "blocked"
    EXPIRED = "expired"


class RenderStatus(StrEnum):
    QUEUED = "queued"
    SUBMITTED = "submitted"
    RUNNING = "running"
    DOWNLOADING = "downloading"
    POSTPROCESSING = "postprocessing"
    READY = "ready"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"


@dataclass(frozen=True)
class ReplyTarget:
    """Where to answer: saved with every request so any process can post into the thread later."""

    platform: str
    workspace: str
    channel: str
    thread: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "platform": self.platform,
            "workspace": self.workspace,
            "channel": self.channel,
            "thread": self.thread,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplyTarget:
        return cls(
            platform=str(data["platform"]),
            workspace=str(data["workspace"]),
            channel=str(data["channel"]),
            thread=data.get("thread"),
        )

    def in_thread(self, thread: str) -> ReplyTarget:
        return ReplyTarget(self.platform, self.workspace, self.channel, thread)


@dataclass(frozen=True)
class RenderOptions:
    """What the requester asked for beyond the words; ``None`` means "let clipdesk choose"."""

    seconds: int | None = None
    aspect: str | None = None
    provider: str | None = None
    model: str | None = None
    variants: int = 1
    quality: str = "standard"

    def to_dict(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "aspect": self.aspect,
            "provider": self.provider,
            "model": self.model,
            "variants": self.variants,
            "quality": self.quality,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderOptions:
        return cls(
            seconds=data.get("seconds"),
            aspect=data.get("aspect"),
            provider=data.get("provider"),
            model=data.get("model"),
            variants=int(data.get("variants") or 1),
            quality=str(data.get("quality") or "standard"),
        )


@dataclass
class VideoRequest:
    """One ask in one thread."""

    id: str
    target: ReplyTarget
    requester: str
    raw_text: str
    options: RenderOptions
    status: RequestStatus = RequestStatus.RECEIVED
    requester_name: str = ""
    status_message: str | None = None
    brief_message: str | None = None
    failure_reason: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Shot:
    """One shot of the shot list."""

    index: int
    seconds: float
    description: str
    camera: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "seconds": self.seconds,
            "description": self.description,
            "camera": self.camera,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shot:
        return cls(
            index=int(data["index"]),
            seconds=float(data["seconds"]),
            description=str(data["description"]),
            camera=str(data["camera"]),
        )


@dataclass(frozen=True)
class Brief:
    """One version of the refined prompt; every edit makes a new version."""

    request_id: str
    version: int
    prompt: str
    subject: str
    setting: str
    style: str
    lighting: str
    camera: str
    negative_prompt: str
    seconds: int
    aspect: str
    shots: tuple[Shot, ...]
    refiner: str = "offline"
    note: str = ""
    id: str = field(default_factory=lambda: new_id("brf"))
    created_at: datetime = field(default_factory=utcnow)

    @property
    def digest(self) -> str:
        """A stable hash of what the provider is asked to make (for provenance and audit)."""
        payload = json.dumps(
            {
                "prompt": self.prompt,
                "negative_prompt": self.negative_prompt,
                "seconds": self.seconds,
                "aspect": self.aspect,
                "shots": [s.to_dict() for s in self.shots],
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class Render:
    """One generation attempt of one brief on one provider."""

    id: str
    request_id: str
    brief_id: str
    brief_version: int
    provider: str
    model: str
    seconds: int
    size: str
    status: RenderStatus = RenderStatus.QUEUED
    variant: int = 1
    remote_id: str | None = None
    attempts: int = 0
    progress: int = 0
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    next_attempt_at: datetime | None = None
    cost_estimate: float = 0.0
    cost_actual: float | None = None
    clip_path: str | None = None
    qc_findings: list[str] = field(default_factory=list)
    provenance_digest: str | None = None
    failure_reason: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)

    @property
    def width(self) -> int:
        return int(self.size.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.size.split("x")[1])


@dataclass(frozen=True)
class Review:
    """A reviewer's decision on one render."""

    request_id: str
    render_id: str
    decision: Decision
    reviewer: str
    reviewer_name: str = ""
    reason: str = ""
    id: str = field(default_factory=lambda: new_id("rev"))
    created_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class AuditEvent:
    """An append-only record of a state change and who caused it."""

    kind: str
    actor: str
    request_id: str | None = None
    render_id: str | None = None
    platform: str = ""
    workspace: str = ""
    channel: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: new_id("aud"))
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Delivery:
    """An outbox entry: something to post into a thread exactly once."""

    id: str
    key: str
    request_id: str
    platform: str
    kind: str
    payload: dict[str, Any]
    attempts: int = 0
    delivered_at: datetime | None = None
