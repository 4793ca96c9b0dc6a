"""The ports: every way the core talks to the world, as Protocols.

Adapters implement these; the core depends on nothing else outside the
standard library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from bot.domain import (
    AuditEvent,
    Brief,
    Delivery,
    Render,
    ReplyTarget,
    RequestStatus,
    Review,
    VideoRequest,
)
from bot.errors import InvalidOptions
from bot.messages import Form, Message

# --------------------------------------------------------------------------- chat


@runtime_checkable
class ChatPort(Protocol):
    """One chat platform. ``ref`` values are opaque message references the adapter understands."""

    platform: str

    async def start_thread(self, target: ReplyTarget, message: Message) -> tuple[ReplyTarget, str]:
        """Post the parent message of a request; return the thread's target and the message ref."""
        ...

    async def post(self, target: ReplyTarget, message: Message, *, key: str | None = None) -> str:
        """Post into the thread; ``key`` lets an adapter drop a duplicate of the same delivery."""
        ...

    async def update(self, target: ReplyTarget, ref: str, message: Message) -> None: ...

    async def upload_clip(
        self, target: ReplyTarget, clip: Path, message: Message, *, key: str | None = None
    ) -> str:
        """Upload the MP4 into the thread with the message beside it; return the message ref."""
        ...

    async def notify(self, target: ReplyTarget, user_id: str, message: Message) -> None:
        """Tell one user something only they see (ephemeral)."""
        ...

    async def open_form(self, trigger: Any, form: Form) -> None: ...


# ----------------------------------------------------------------------- providers


class Continuity(StrEnum):
    """How a model can join one shot to the next (multi-shot cuts)."""

    FIRST_FRAME = "first_frame"  # start the clip from a given image (e.g. the previous shot's last frame)
    LAST_FRAME = "last_frame"  # end the clip on a given image
    EXTEND = "extend"  # continue an earlier job of the same provider natively


class Tier(StrEnum):
    """Where a model sits for drafts and finals: a draft is the provider's cheap, fast tier."""

    DRAFT = "draft"
    FINAL = "final"


@dataclass(frozen=True)
class ModelSpec:
    """What one model of a provider can make, and what a second of it costs (USD)."""

    name: str
    durations: tuple[int, ...]
    sizes: dict[str, str]  # aspect ("16:9") -> size ("1280x720")
    price_per_second: float
    audio: bool = False
    max_prompt_chars: int = 4000
    quality_sizes: dict[str, dict[str, str]] = field(default_factory=dict)
    quality_prices: dict[str, float] = field(default_factory=dict)
    continuity: frozenset[Continuity] = frozenset()
    tier: Tier = Tier.FINAL

    def size_for(self, aspect: str, quality: str = "standard") -> str:
        return self.quality_sizes.get(quality, {}).get(aspect) or self.sizes[aspect]

    def price_for(self, quality: str = "standard") -> float:
        return self.quality_prices.get(quality, self.price_per_second)


class SourceType(StrEnum):
    """IPTC digital source type of what a provider makes (C2PA ``digitalSourceType``)."""

    TRAINED = "trainedAlgorithmicMedia"  # a trained generative model (Sora, Veo, Runway, …)
    ALGORITHMIC = "algorithmicMedia"  # made by an algorithm without a trained model (the animatic)


@dataclass(frozen=True)
class Capabilities:
    provider: str
    models: tuple[ModelSpec, ...]
    default_model: str
    label: str = ""
    source_type: SourceType = SourceType.TRAINED
    # The provider honours an idempotency key on create: re-sending the same key cannot start a
    # second paid job, so an ambiguous submit may simply be sent again with that key.
    idempotent_submit: bool = False

    def model(self, name: str | None = None) -> ModelSpec:
        wanted = name or self.default_model
        for spec in self.models:
            if spec.name == wanted:
                return spec
        allowed = ", ".join(m.name for m in self.models)
        raise InvalidOptions(f"{self.provider} has no model `{wanted}`. Try one of: {allowed}.")

    @property
    def durations(self) -> tuple[int, ...]:
        return tuple(sorted({d for m in self.models for d in m.durations}))

    @property
    def aspects(self) -> tuple[str, ...]:
        return tuple(sorted({a for m in self.models for a in m.sizes}))


@dataclass(frozen=True)
class RenderSpec:
    """Everything a provider needs to make one clip.

    ``idempotency_key`` is derived from the render id and attempt; providers send it where
    the API accepts one and use it to find a job an ambiguous submit may have created.
    ``first_frame``/``last_frame`` (images) and ``extend_remote_id`` (an earlier job of the
    same provider) are set only when the model declares the matching :class:`Continuity`.
    """

    render_id: str
    brief: Brief
    model: str
    seconds: int
    size: str
    aspect: str
    seed: int | None = None
    idempotency_key: str = ""
    prompt: str | None = None  # the shot's own text in a multi-shot cut; else the brief's prompt
    first_frame: Path | None = None
    last_frame: Path | None = None
    extend_remote_id: str | None = None


class RemoteState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class RemoteStatus:
    state: RemoteState
    progress: int = 0
    poll_after: float | None = None
    error: str | None = None
    refused: bool = False
    charged: bool = True
    cost: float | None = None


@runtime_checkable
class VideoProvider(Protocol):
    """A text-to-video service. Implementations never block the event loop."""

    name: str

    def capabilities(self) -> Capabilities: ...

    async def submit(self, spec: RenderSpec) -> str:
        """Start a job and return its remote id. Raise Transient/Permanent provider errors."""
        ...

    async def status(self, remote_id: str) -> RemoteStatus: ...

    async def download(self, remote_id: str, dest: Path) -> None:
        """Stream the finished clip to ``dest``."""
        ...

    async def find(self, spec: RenderSpec) -> str | None:
        """Reconcile after an ambiguous submit: the remote id of a job made for ``spec``, if any.

        Returns ``None`` only when the provider can tell no such job exists (so submitting
        again cannot pay twice). Raises :class:`bot.errors.ReconcileUnsupported` when the
        provider cannot tell; the core then marks the render "submission uncertain".
        """
        ...

    async def cancel(self, remote_id: str) -> None:
        """Ask the provider to stop a job (best effort; a no-op where the API has no cancel)."""
        ...


# ------------------------------------------------------------------ refiner, moderator


@dataclass(frozen=True)
class Clarification:
    """The refiner needs one answer before it can write a brief."""

    question: str


@dataclass(frozen=True)
class RefineInput:
    request_id: str
    version: int
    text: str
    seconds: int
    aspect: str
    previous: Brief | None = None
    instruction: str | None = None
    max_prompt_chars: int = 4000


@runtime_checkable
class PromptRefiner(Protocol):
    name: str

    async def refine(self, data: RefineInput) -> Brief | Clarification: ...


@dataclass(frozen=True)
class ModerationResult:
    allowed: bool
    category: str = ""
    reason: str = ""
    source: str = ""


@runtime_checkable
class Moderator(Protocol):
    async def check(self, text: str) -> ModerationResult: ...


# -------------------------------------------------------------------- persistence


@dataclass(frozen=True)
class BudgetLimit:
    """At most ``limit`` USD spent by ``scope`` (user, channel, workspace) ``key`` since ``since``."""

    scope: str
    key: str
    limit: float
    since: datetime


@dataclass(frozen=True)
class Usage:
    scope: str
    key: str
    spent: float
    limit: float | None


class Store(Protocol):
    """The repository the core calls. Every multi-row change is one transaction."""

    async def remember_event(self, key: str) -> bool:
        """Record a platform event id; ``False`` if it was seen before (a retry)."""
        ...

    async def add_request(
        self, request: VideoRequest, *audits: AuditEvent, event_key: str | None = None
    ) -> bool:
        """Record a new request with its audit events in one transaction.

        With ``event_key`` the platform event id is remembered in the same transaction;
        ``False`` (and nothing written) means that event was already handled.
        """
        ...

    async def get_request(self, request_id: str) -> VideoRequest | None: ...

    async def find_request_by_thread(self, target: ReplyTarget) -> VideoRequest | None: ...

    async def open_requests(self, platform: str, workspace: str, requester: str) -> list[VideoRequest]: ...

    async def requests_in_status(self, status: RequestStatus) -> list[VideoRequest]: ...

    async def set_request_refs(
        self,
        request_id: str,
        *,
        target: ReplyTarget | None = None,
        status_message: str | None = None,
        brief_message: str | None = None,
    ) -> None: ...

    async def move_request(
        self,
        request_id: str,
        expected: Sequence[RequestStatus],
        to: RequestStatus,
        *,
        audit: AuditEvent,
        failure_reason: str | None = None,
        renders: Sequence[Render] = (),
        review: Review | None = None,
        deliveries: Sequence[Delivery] = (),
        budgets: Sequence[BudgetLimit] = (),
    ) -> VideoRequest | None:
        """Compare-and-set the request's status and write the rest in the same transaction.

        Returns the updated request, or ``None`` when the request was not in one of
        ``expected`` (someone else moved it first). Raises ``OverBudget`` when
        ``renders`` would exceed a limit in ``budgets``.
        """
        ...

    async def add_brief(self, brief: Brief, audit: AuditEvent) -> None: ...

    async def latest_brief(self, request_id: str) -> Brief | None: ...

    async def get_brief(self, brief_id: str) -> Brief | None: ...

    async def get_render(self, render_id: str) -> Render | None: ...

    async def renders_for(self, request_id: str) -> list[Render]: ...

    async def claim_renders(
        self, owner: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[Render]:
        """Lease up to ``limit`` due, unleased (or lease-expired) unfinished renders to ``owner``."""
        ...

    async def renew_lease(self, render_id: str, owner: str, until: datetime) -> bool: ...

    async def save_render(
        self,
        render: Render,
        owner: str,
        *,
        audit: AuditEvent | None = None,
        request_to: RequestStatus | None = None,
        request_from: Sequence[RequestStatus] = (),
        deliveries: Sequence[Delivery] = (),
        new_renders: Sequence[Render] = (),
    ) -> bool:
        """Write the render if ``owner`` still holds its lease; optionally move its request."""
        ...

    async def reap_expired_leases(self, now: datetime) -> list[str]: ...

    async def set_render_clip(self, render_id: str, clip_path: str, provenance_digest: str | None) -> None:
        """Point a finished render at a new file (e.g. re-signed after approval)."""
        ...

    async def queue_position(self, render_id: str) -> int: ...

    async def audit(self, event: AuditEvent) -> None: ...

    async def audit_events(self, since: datetime | None = None) -> list[AuditEvent]: ...

    async def enqueue(self, delivery: Delivery) -> bool: ...

    async def claim_deliveries(
        self, owner: str, now: datetime, lease_seconds: float, limit: int, platforms: Sequence[str]
    ) -> list[Delivery]:
        """Lease undelivered outbox entries for the chat platforms this process can post to."""
        ...

    async def delivered(self, delivery_id: str, owner: str, ref: str) -> None: ...

    async def delivery_ref(self, key: str) -> str | None:
        """The message ref of a delivered outbox entry, e.g. ``clip:{render_id}``."""
        ...

    async def delivery_failed(
        self, delivery_id: str, owner: str, error: str, retry_at: datetime, give_up: bool
    ) -> None: ...

    async def usage(self, scope: str, key: str, since: datetime) -> float: ...


class MediaStore(Protocol):
    """Where clips live. Paths are local files; ``url_for`` gives a link to share."""

    def clip_path(self, render_id: str) -> Path: ...

    def work_dir(self, name: str) -> Path: ...

    def url_for(self, path: Path) -> str: ...

    def delete_older_than(self, cutoff: datetime) -> list[Path]: ...


@dataclass(frozen=True)
class ProcessedClip:
    path: Path
    findings: tuple[str, ...] = ()
    hard_failure: bool = False
    provenance_digest: str | None = None
    seconds: float = 0.0


class PostProcessor(Protocol):
    """Watermark, provenance and QC of a downloaded clip (see ``adapters/media``)."""

    async def process(
        self, render: Render, brief: Brief, request: VideoRequest, clip: Path
    ) -> ProcessedClip: ...


class ApprovalSealer(Protocol):
    """Re-sign an approved clip so its provenance names the approver."""

    async def seal(
        self, render: Render, brief: Brief, request: VideoRequest, approver: str
    ) -> ProcessedClip: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
