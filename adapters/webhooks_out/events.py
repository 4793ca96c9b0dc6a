"""The public webhook event types and the domain events they come from (a public contract)."""

from __future__ import annotations

from bot.event_kinds import EventKind as K

PUBLIC_TYPES: dict[K, str] = {
    K.REQUEST_RECEIVED: "request.created",
    K.BRIEF_CREATED: "brief.ready",
    K.RENDER_READY: "render.ready",
    K.REVIEW_APPROVED: "request.approved",
    K.REVIEW_REJECTED: "request.rejected",
    K.REQUEST_FAILED: "request.failed",
    K.REQUEST_CANCELLED: "request.cancelled",
}
EVENT_TYPES: tuple[str, ...] = tuple(PUBLIC_TYPES.values())
