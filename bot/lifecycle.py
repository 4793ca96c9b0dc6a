"""The request and render life cycles as explicit transition tables.

The core moves a request or a render only through :func:`advance_request` and
:func:`advance_render`; anything not in the tables is refused with
:class:`IllegalTransition`, so a bug or a race can never put a request into a
state that the thread would not explain.
"""

from __future__ import annotations

from bot.domain import RenderStatus, RequestStatus
from bot.errors import IllegalTransition

R = RequestStatus
_BEFORE_RENDERING = {R.RECEIVED, R.REFINING, R.CLARIFYING, R.AWAITING_CONFIRMATION, R.QUEUED}

REQUEST_TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    R.RECEIVED: frozenset({R.REFINING, R.BLOCKED, R.CANCELLED, R.FAILED}),
    R.REFINING: frozenset(
        {R.CLARIFYING, R.AWAITING_CONFIRMATION, R.QUEUED, R.BLOCKED, R.FAILED, R.CANCELLED}
    ),
    R.CLARIFYING: frozenset({R.REFINING, R.CANCELLED}),
    R.AWAITING_CONFIRMATION: frozenset({R.REFINING, R.QUEUED, R.CANCELLED}),
    R.QUEUED: frozenset({R.RENDERING, R.FAILED, R.CANCELLED}),
    R.RENDERING: frozenset({R.IN_REVIEW, R.FAILED}),
    # Regenerate from review goes back through refining to make a new brief version.
    # Re-rendering one shot of a cut queues the next cut version directly (no new brief needed).
    R.IN_REVIEW: frozenset({R.APPROVED, R.REJECTED, R.CHANGES_REQUESTED, R.REFINING, R.EXPIRED, R.QUEUED}),
    # An expired review can be revived by regenerating or editing.
    R.EXPIRED: frozenset({R.REFINING}),
    R.CHANGES_REQUESTED: frozenset({R.REFINING, R.CANCELLED}),
    # A failed request may be retried (a new render of the same brief) or revised.
    R.FAILED: frozenset({R.QUEUED, R.REFINING, R.CANCELLED}),
    R.APPROVED: frozenset(),
    R.REJECTED: frozenset(),
    R.CANCELLED: frozenset(),
    # A blocked request may be appealed; an approver can let it continue.
    R.BLOCKED: frozenset({R.REFINING}),
}

S = RenderStatus
RENDER_TRANSITIONS: dict[RenderStatus, frozenset[RenderStatus]] = {
    # A cut's own render has no provider job: once its shots are ready it goes to stitching.
    S.QUEUED: frozenset({S.SUBMITTED, S.POSTPROCESSING, S.FAILED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.RUNNING, S.DOWNLOADING, S.FAILED, S.CANCELLED}),
    S.RUNNING: frozenset({S.DOWNLOADING, S.FAILED, S.CANCELLED}),
    S.DOWNLOADING: frozenset({S.POSTPROCESSING, S.FAILED}),
    S.POSTPROCESSING: frozenset({S.READY, S.FAILED}),
    # A take of several variants is archived when another is picked (it never reached a decision).
    S.READY: frozenset({S.CANCELLED}),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
}

OPEN_REQUEST_STATES = frozenset(
    {
        R.RECEIVED,
        R.REFINING,
        R.CLARIFYING,
        R.AWAITING_CONFIRMATION,
        R.QUEUED,
        R.RENDERING,
        R.IN_REVIEW,
        R.CHANGES_REQUESTED,
        R.FAILED,
    }
)
TERMINAL_RENDER_STATES = frozenset({S.READY, S.FAILED, S.CANCELLED})


def can_advance_request(current: RequestStatus, target: RequestStatus) -> bool:
    return target in REQUEST_TRANSITIONS[current]


def advance_request(current: RequestStatus, target: RequestStatus) -> RequestStatus:
    """Return ``target`` if the request may move there from ``current``; raise otherwise."""
    if target == R.CANCELLED and current not in _BEFORE_RENDERING | {R.CHANGES_REQUESTED, R.FAILED}:
        raise IllegalTransition("request", current, target)
    if not can_advance_request(current, target):
        raise IllegalTransition("request", current, target)
    return target


def advance_render(current: RenderStatus, target: RenderStatus) -> RenderStatus:
    """Return ``target`` if the render may move there from ``current``; raise otherwise."""
    if target not in RENDER_TRANSITIONS[current]:
        raise IllegalTransition("render", current, target)
    return target
