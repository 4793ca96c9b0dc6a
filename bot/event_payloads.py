"""The payload of every domain event kind: one frozen dataclass per kind.

Payloads hold facts, not text for people: the thread presenter, webhooks and
the audit report turn them into words. Every field is JSON-friendly (str, int,
float, bool, lists and dicts of those), so a payload goes to the audit log and
the outbox as a plain dict and comes back as the same dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.event_base import Payload as Payload
from bot.event_base import RenderFacts as RenderFacts
from bot.event_kinds import EventKind as K

# Re-exported: every payload kind is found in this module (bot.domain_events reads it).
from bot.event_payloads_cuts import CutStitching as CutStitching
from bot.event_payloads_cuts import FinalQueued as FinalQueued
from bot.event_payloads_cuts import ShotReady as ShotReady
from bot.event_payloads_cuts import ShotRerender as ShotRerender
from bot.event_payloads_cuts import VariantArchived as VariantArchived
from bot.event_payloads_cuts import VariantPicked as VariantPicked

# ----------------------------------------------------------------------------- requests


@dataclass(frozen=True, kw_only=True)
class RequestReceived(Payload):
    KIND = K.REQUEST_RECEIVED
    text: str
    options: dict[str, Any]
    requester_name: str = ""


@dataclass(frozen=True, kw_only=True)
class RequestRefining(Payload):
    KIND = K.REQUEST_REFINING


@dataclass(frozen=True, kw_only=True)
class RequestClarifying(Payload):
    KIND = K.REQUEST_CLARIFYING
    question: str


@dataclass(frozen=True, kw_only=True)
class RequestAwaitingConfirmation(Payload):
    KIND = K.REQUEST_AWAITING_CONFIRMATION
    brief_id: str
    cost_estimate: float


@dataclass(frozen=True, kw_only=True)
class RequestQueued(Payload):
    KIND = K.REQUEST_QUEUED
    brief_id: str
    brief_version: int
    provider: str
    model: str
    seconds: int
    size: str
    variants: int
    cost_estimate: float
    render_ids: list[str]
    retry: bool = False


@dataclass(frozen=True, kw_only=True)
class RequestRendering(Payload):
    KIND = K.REQUEST_RENDERING
    render_id: str


@dataclass(frozen=True, kw_only=True)
class RequestInReview(Payload):
    KIND = K.REQUEST_IN_REVIEW
    render_id: str


@dataclass(frozen=True, kw_only=True)
class RequestFailed(Payload):
    KIND = K.REQUEST_FAILED
    reason: str
    render_id: str | None = None
    uncertain: bool = False


@dataclass(frozen=True, kw_only=True)
class RequestCancelled(Payload):
    KIND = K.REQUEST_CANCELLED
    by_name: str


@dataclass(frozen=True, kw_only=True)
class RequestBlocked(Payload):
    KIND = K.REQUEST_BLOCKED
    category: str
    reason: str
    stage: str


@dataclass(frozen=True, kw_only=True)
class RequestRevised(Payload):
    """Edit prompt, Regenerate or a reply in the thread: the request goes back to refining."""

    KIND = K.REQUEST_REVISED
    revision: str  # "edit" | "regenerate" | "reply" | "script"
    text: str | None = None
    instruction: str | None = None
    options: dict[str, Any] | None = None
    previous_brief_id: str | None = None
    script: list[str] | None = None  # Edit script: the new narration, one line per shot


@dataclass(frozen=True, kw_only=True)
class RequestAnswered(Payload):
    KIND = K.REQUEST_ANSWERED
    text: str


@dataclass(frozen=True, kw_only=True)
class RequestRetried(Payload):
    KIND = K.REQUEST_RETRIED


@dataclass(frozen=True, kw_only=True)
class RequestAppealed(Payload):
    KIND = K.REQUEST_APPEALED
    by_name: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class AppealAllowed(Payload):
    KIND = K.APPEAL_ALLOWED
    by_name: str
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class AppealDenied(Payload):
    KIND = K.APPEAL_DENIED
    by_name: str


# ------------------------------------------------------------------------------ reviews


@dataclass(frozen=True, kw_only=True)
class ReviewDecision(Payload):
    """What an approval and a rejection both record."""

    render_id: str
    brief_version: int
    reviewer_name: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ReviewApproved(ReviewDecision):
    KIND = K.REVIEW_APPROVED


@dataclass(frozen=True, kw_only=True)
class ReviewRejected(ReviewDecision):
    KIND = K.REVIEW_REJECTED


@dataclass(frozen=True, kw_only=True)
class ReviewChangesRequested(ReviewDecision):
    """An approver edited a clip in review: the edit is their requested change."""

    KIND = K.REVIEW_CHANGES_REQUESTED


@dataclass(frozen=True, kw_only=True)
class ReviewExpired(Payload):
    KIND = K.REVIEW_EXPIRED
    hours: float


# ------------------------------------------------------------------------ briefs, checks


@dataclass(frozen=True, kw_only=True)
class BriefCreated(Payload):
    KIND = K.BRIEF_CREATED
    brief_id: str
    version: int
    refiner: str
    digest: str
    note: str = ""
    awaiting: bool = False
    fallback: bool = False  # the LLM failed and the offline refiner wrote it
    offline_by_setup: bool = False  # no LLM is configured at all (said once, on a request's first brief)


@dataclass(frozen=True, kw_only=True)
class ModerationChecked(Payload):
    KIND = K.MODERATION_CHECKED
    stage: str
    allowed: bool
    category: str = ""
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class BudgetRefused(Payload):
    KIND = K.BUDGET_REFUSED
    cost_estimate: float
    scope: str
    limit: float
    spent: float


# ------------------------------------------------------------------------------ renders


@dataclass(frozen=True, kw_only=True)
class RenderProgress(RenderFacts):
    KIND = K.RENDER_PROGRESS
    status: str
    progress: int


@dataclass(frozen=True, kw_only=True)
class RenderSubmitted(RenderFacts):
    KIND = K.RENDER_SUBMITTED
    remote_id: str
    seed: int
    cost_estimate: float
    reconciled: bool = False


@dataclass(frozen=True, kw_only=True)
class RenderRunning(RenderFacts):
    KIND = K.RENDER_RUNNING


@dataclass(frozen=True, kw_only=True)
class RenderCompleted(RenderFacts):
    """The provider finished; the clip is about to be downloaded."""

    KIND = K.RENDER_COMPLETED
    cost_actual: float | None


@dataclass(frozen=True, kw_only=True)
class RenderDownloaded(RenderFacts):
    KIND = K.RENDER_DOWNLOADED
    bytes: int


@dataclass(frozen=True, kw_only=True)
class RenderReady(RenderFacts):
    KIND = K.RENDER_READY
    cost_actual: float | None
    qc_findings: list[str] = field(default_factory=list)
    provenance: str | None = None
    attachments: list[str] = field(default_factory=list)  # files beside the clip (captions)
    notes: list[str] = field(default_factory=list)  # shown with the clip ("captions only: …")


@dataclass(frozen=True, kw_only=True)
class RenderFailed(RenderFacts):
    KIND = K.RENDER_FAILED
    reason: str
    refused: bool = False
    uncertain: bool = False
    cost_actual: float | None = None


@dataclass(frozen=True, kw_only=True)
class RenderQcRegenerate(RenderFacts):
    KIND = K.RENDER_QC_REGENERATE
    findings: list[str]
    replacement: str


@dataclass(frozen=True, kw_only=True)
class RenderCancelled(RenderFacts):
    KIND = K.RENDER_CANCELLED


@dataclass(frozen=True, kw_only=True)
class RenderRetry(RenderFacts):
    KIND = K.RENDER_RETRY
    reason: str
    delay: float


@dataclass(frozen=True, kw_only=True)
class RenderFailover(RenderFacts):
    KIND = K.RENDER_FAILOVER
    reason: str
    from_provider: str


@dataclass(frozen=True, kw_only=True)
class RenderOrphaned(RenderFacts):
    """A job the provider made that no render owns (found while reconciling); audited, not paid twice."""

    KIND = K.RENDER_ORPHANED
    remote_id: str


@dataclass(frozen=True, kw_only=True)
class RenderReaped(Payload):
    KIND = K.RENDER_REAPED
    lease_owner: str | None
    status: str


@dataclass(frozen=True, kw_only=True)
class RenderSealed(Payload):
    KIND = K.RENDER_SEALED
    approver: str
    provenance: str | None


@dataclass(frozen=True, kw_only=True)
class RenderRenarrated(Payload):
    """The voice was mixed again under the filed clip: no provider job, the clip is re-signed."""

    KIND = K.RENDER_RENARRATED
    provenance: str | None
    qc_findings: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class RenderSealFailed(Payload):
    KIND = K.RENDER_SEAL_FAILED
    reason: str


@dataclass(frozen=True, kw_only=True)
class DeliveryAbandoned(Payload):
    KIND = K.DELIVERY_ABANDONED
    key: str
    sink: str
    error: str


@dataclass(frozen=True, kw_only=True)
class WebhookDisabled(Payload):
    """An outgoing webhook endpoint stopped receiving: it answered 410 Gone, or kept failing."""

    KIND = K.WEBHOOK_DISABLED
    endpoint_id: str
    url: str
    reason: str
