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

from bot.explainers import Explainer


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
class RequestOptions:
    """What the requester asked for beyond the words; ``None`` means "let clipdesk choose".

    Entry points fill this from typed input (Discord options, CLI flags, the REST API) or
    from the ask's free text (:func:`bot.options.parse_ask`); it is never turned back into text.
    """

    seconds: int | None = None
    aspect: str | None = None
    provider: str | None = None
    model: str | None = None
    variants: int = 1
    quality: str = "standard"
    shots: int | None = None  # a multi-shot cut of this many shots (``--shots N``)
    draft: bool | None = None  # render at the draft tier first; ``None``: the workspace's default
    audience: str | None = None  # an explainer's viewers ("age 14")
    captions: str | None = None  # "on" (files), "burn", "off", or a language tag to translate to

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "seconds": self.seconds,
            "aspect": self.aspect,
            "provider": self.provider,
            "model": self.model,
            "variants": self.variants,
            "quality": self.quality,
        }
        # only when set, so the options of single clips read as they always did
        if self.shots is not None:
            data["shots"] = self.shots
        if self.draft is not None:
            data["draft"] = self.draft
        if self.audience is not None:
            data["audience"] = self.audience
        if self.captions is not None:
            data["captions"] = self.captions
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestOptions:
        return cls(
            seconds=data.get("seconds"),
            aspect=data.get("aspect"),
            provider=data.get("provider"),
            model=data.get("model"),
            variants=int(data.get("variants") or 1),
            quality=str(data.get("quality") or "standard"),
            shots=int(data["shots"]) if data.get("shots") else None,
            draft=data.get("draft"),
            audience=data.get("audience"),
            captions=data.get("captions"),
        )

    def merged_over(self, base: RequestOptions) -> RequestOptions:
        """These options where they are set, ``base`` where they are not (typed input wins)."""
        return RequestOptions(
            seconds=self.seconds if self.seconds is not None else base.seconds,
            aspect=self.aspect or base.aspect,
            provider=self.provider or base.provider,
            model=self.model or base.model,
            variants=self.variants if self.variants != 1 else base.variants,
            quality=self.quality if self.quality != "standard" else base.quality,
            shots=self.shots if self.shots is not None else base.shots,
            draft=self.draft if self.draft is not None else base.draft,
            audience=self.audience or base.audience,
            captions=self.captions or base.captions,
        )


@dataclass(frozen=True)
class Plan:
    """A priced, validated choice of what will be rendered where; stored with the brief and its renders.

    Chosen once, within the workspace's policy, when a brief is written; confirm, retry and
    failover start from it instead of recomputing it from the process-wide provider order.
    """

    provider: str
    model: str
    seconds: int
    aspect: str
    size: str
    variants: int
    price_per_second: float
    pinned: bool
    quality: str = "standard"
    # A multi-shot cut: each shot's length, each a length the model makes, summing to ``seconds``.
    shot_seconds: tuple[int, ...] = ()
    draft: bool = False  # the draft tier of the provider: a cheap preview before the final
    final_cost: float | None = None  # a draft's: what Make final will cost (shown before spending)

    @property
    def is_cut(self) -> bool:
        """Rendered as a cut: several shots, or a draft (its final repeats its shots by their seeds)."""
        return len(self.shot_seconds) > 1 or (self.draft and len(self.shot_seconds) == 1)

    @property
    def cost_per_render(self) -> float:
        return round(self.price_per_second * self.seconds, 4)

    @property
    def cost_estimate(self) -> float:
        return round(self.price_per_second * self.seconds * self.variants, 4)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "seconds": self.seconds,
            "aspect": self.aspect,
            "size": self.size,
            "variants": self.variants,
            "price_per_second": self.price_per_second,
            "pinned": self.pinned,
            "quality": self.quality,
            **({"shot_seconds": list(self.shot_seconds)} if self.shot_seconds else {}),
            **({"draft": True} if self.draft else {}),
            **({"final_cost": self.final_cost} if self.final_cost is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(
            provider=str(data["provider"]),
            model=str(data["model"]),
            seconds=int(data["seconds"]),
            aspect=str(data["aspect"]),
            size=str(data["size"]),
            variants=int(data.get("variants") or 1),
            price_per_second=float(data["price_per_second"]),
            pinned=bool(data.get("pinned")),
            quality=str(data.get("quality") or "standard"),
            shot_seconds=tuple(int(s) for s in data.get("shot_seconds") or ()),
            draft=bool(data.get("draft")),
            final_cost=float(data["final_cost"]) if data.get("final_cost") is not None else None,
        )


@dataclass
class VideoRequest:
    """One ask in one thread."""

    id: str
    target: ReplyTarget
    requester: str
    raw_text: str
    options: RequestOptions
    status: RequestStatus = RequestStatus.RECEIVED
    requester_name: str = ""
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
    continues: bool = False  # the same take continues from the previous shot (chained, not cut)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "index": self.index,
            "seconds": self.seconds,
            "description": self.description,
            "camera": self.camera,
        }
        if self.continues:  # absent when false, so briefs written before cuts keep their digest
            data["continues"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shot:
        return cls(
            index=int(data["index"]),
            seconds=float(data["seconds"]),
            description=str(data["description"]),
            camera=str(data["camera"]),
            continues=bool(data.get("continues")),
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
    plan: Plan | None = None
    explainer: Explainer | None = None  # the narration script, key terms and goal of an explainer
    id: str = field(default_factory=lambda: new_id("brf"))
    created_at: datetime = field(default_factory=utcnow)

    @property
    def digest(self) -> str:
        """A stable hash of what the provider is asked to make (for provenance and audit)."""
        facts: dict[str, Any] = {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "seconds": self.seconds,
            "aspect": self.aspect,
            "shots": [s.to_dict() for s in self.shots],
        }
        if self.explainer is not None:  # what is said is part of what is made
            facts["script"] = list(self.explainer.script)
        payload = json.dumps(facts, sort_keys=True)
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
    price_per_second: float = 0.0
    quality: str = "standard"
    pinned: bool = False
    # Set before the provider is called, cleared never: a render with an intent but no remote
    # id may have created a paid job, so it is reconciled before any second submit.
    submit_intent_at: datetime | None = None
    submit_key: str | None = None  # the idempotency key of the pending intent, reused until resolved
    submitted_at: datetime | None = None
    uncertain: bool = False  # failed because the provider could not say whether it made a job
    # In a multi-shot cut: the cut it belongs to, and its shot number (``None``: the cut's own
    # render, which stitches the shots and is what is reviewed and delivered).
    cut_id: str | None = None
    shot: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)

    @property
    def idempotency_key(self) -> str:
        """One key per render and attempt: a provider that honours it starts at most one job."""
        return f"clipdesk-{self.id}-{self.attempts}"

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
