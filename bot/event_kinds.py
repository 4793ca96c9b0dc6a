"""Every kind of domain event, and which life-cycle state each kind moves a request or render to.

The tables below make "one transition, one event" structural: a request moves
only with an event whose kind targets the new state (see :mod:`bot.transitions`),
so the audit log can never hold a state change without the event that explains it.
"""

from __future__ import annotations

from enum import StrEnum

from bot.domain import RenderStatus, RequestStatus


class EventKind(StrEnum):
    """Kinds of domain events. Their values are a public contract (audit export, webhooks)."""

    # request life cycle
    REQUEST_RECEIVED = "request.received"
    REQUEST_REFINING = "request.refining"
    REQUEST_CLARIFYING = "request.clarifying"
    REQUEST_AWAITING_CONFIRMATION = "request.awaiting_confirmation"
    REQUEST_QUEUED = "request.queued"
    REQUEST_RENDERING = "request.rendering"
    REQUEST_IN_REVIEW = "request.in_review"
    REQUEST_FAILED = "request.failed"
    REQUEST_CANCELLED = "request.cancelled"
    REQUEST_BLOCKED = "request.blocked"
    REQUEST_REVISED = "request.revised"
    REQUEST_ANSWERED = "request.answered"
    REQUEST_RETRIED = "request.retried"
    REQUEST_APPEALED = "request.appealed"
    APPEAL_ALLOWED = "appeal.allowed"
    APPEAL_DENIED = "appeal.denied"
    REVIEW_APPROVED = "review.approved"
    REVIEW_REJECTED = "review.rejected"
    REVIEW_CHANGES_REQUESTED = "review.changes_requested"
    REVIEW_EXPIRED = "review.expired"
    # briefs and checks
    BRIEF_CREATED = "brief.created"
    MODERATION_CHECKED = "moderation.checked"
    BUDGET_REFUSED = "budget.refused"
    # render life cycle
    RENDER_SUBMITTED = "render.submitted"
    RENDER_RUNNING = "render.running"
    RENDER_COMPLETED = "render.completed"
    RENDER_DOWNLOADED = "render.downloaded"
    RENDER_READY = "render.ready"
    RENDER_FAILED = "render.failed"
    RENDER_QC_REGENERATE = "render.qc_regenerate"
    RENDER_CANCELLED = "render.cancelled"
    RENDER_PROGRESS = "render.progress"
    RENDER_RETRY = "render.retry"
    RENDER_FAILOVER = "render.failover"
    RENDER_ORPHANED = "render.orphaned"
    RENDER_REAPED = "render.reaped"
    RENDER_SEALED = "render.sealed"
    RENDER_SEAL_FAILED = "render.seal_failed"
    RENDER_RENARRATED = "render.renarrated"  # Retry narration: the same clip with a new voice track
    # multi-shot cuts
    SHOT_READY = "shot.ready"
    CUT_STITCHING = "cut.stitching"
    SHOT_RERENDER = "cut.shot_rerender"
    FINAL_QUEUED = "cut.final_queued"
    VARIANT_PICKED = "variant.picked"
    VARIANT_ARCHIVED = "variant.archived"
    # delivery
    DELIVERY_ABANDONED = "delivery.abandoned"
    WEBHOOK_DISABLED = "webhook.disabled"  # an outgoing webhook endpoint was switched off (410, failures)


K = EventKind
R = RequestStatus
S = RenderStatus

# The state a request moves to with an event of this kind (request.received creates it).
REQUEST_TARGETS: dict[EventKind, RequestStatus] = {
    K.REQUEST_RECEIVED: R.RECEIVED,
    K.REQUEST_REFINING: R.REFINING,
    K.REQUEST_CLARIFYING: R.CLARIFYING,
    K.REQUEST_AWAITING_CONFIRMATION: R.AWAITING_CONFIRMATION,
    K.REQUEST_QUEUED: R.QUEUED,
    K.REQUEST_RENDERING: R.RENDERING,
    K.REQUEST_IN_REVIEW: R.IN_REVIEW,
    K.REQUEST_FAILED: R.FAILED,
    K.REQUEST_CANCELLED: R.CANCELLED,
    K.REQUEST_BLOCKED: R.BLOCKED,
    K.REQUEST_REVISED: R.REFINING,
    K.REQUEST_ANSWERED: R.REFINING,
    K.REQUEST_RETRIED: R.REFINING,
    K.APPEAL_ALLOWED: R.REFINING,
    K.REVIEW_APPROVED: R.APPROVED,
    K.REVIEW_REJECTED: R.REJECTED,
    K.REVIEW_CHANGES_REQUESTED: R.CHANGES_REQUESTED,
    K.REVIEW_EXPIRED: R.EXPIRED,
    K.SHOT_RERENDER: R.QUEUED,  # one shot of the cut again: cut v2 is queued
    K.FINAL_QUEUED: R.QUEUED,  # Make final on a draft: the final cut is queued
}

# The state a render moves to with an event of this kind.
RENDER_TARGETS: dict[EventKind, RenderStatus] = {
    K.RENDER_SUBMITTED: S.SUBMITTED,
    K.RENDER_RUNNING: S.RUNNING,
    K.RENDER_COMPLETED: S.DOWNLOADING,
    K.RENDER_DOWNLOADED: S.POSTPROCESSING,
    K.RENDER_READY: S.READY,
    K.RENDER_FAILED: S.FAILED,
    K.RENDER_QC_REGENERATE: S.FAILED,
    K.RENDER_CANCELLED: S.CANCELLED,
    K.SHOT_READY: S.READY,  # a shot of a cut: ready for stitching, not for review
    K.CUT_STITCHING: S.POSTPROCESSING,  # a cut's own render: its shots are ready, stitching starts
    K.VARIANT_ARCHIVED: S.CANCELLED,  # another take was picked: this one leaves review
}

# Kinds that are worth showing but not worth keeping: they reach the outbox, not the audit log.
TRANSIENT_KINDS = frozenset({K.RENDER_PROGRESS})
