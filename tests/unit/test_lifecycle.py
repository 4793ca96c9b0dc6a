"""The request and render life cycles refuse every move DESIGN.md does not allow."""

from __future__ import annotations

import pytest

from bot.domain import RenderStatus, RequestStatus
from bot.errors import IllegalTransition
from bot.lifecycle import REQUEST_TRANSITIONS, advance_render, advance_request

R = RequestStatus
S = RenderStatus


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (R.RECEIVED, R.REFINING),
        (R.REFINING, R.CLARIFYING),
        (R.CLARIFYING, R.REFINING),
        (R.REFINING, R.AWAITING_CONFIRMATION),
        (R.AWAITING_CONFIRMATION, R.QUEUED),
        (R.REFINING, R.QUEUED),
        (R.QUEUED, R.RENDERING),
        (R.RENDERING, R.IN_REVIEW),
        (R.IN_REVIEW, R.APPROVED),
        (R.IN_REVIEW, R.REJECTED),
        (R.IN_REVIEW, R.CHANGES_REQUESTED),
        (R.CHANGES_REQUESTED, R.REFINING),
        (R.RENDERING, R.FAILED),
        (R.FAILED, R.QUEUED),
        (R.QUEUED, R.CANCELLED),
        (R.AWAITING_CONFIRMATION, R.CANCELLED),
        (R.RECEIVED, R.BLOCKED),
    ],
)
def test_design_transitions_are_allowed(current: RequestStatus, target: RequestStatus) -> None:
    assert advance_request(current, target) == target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (R.RECEIVED, R.APPROVED),
        (R.QUEUED, R.APPROVED),
        (R.RENDERING, R.CANCELLED),
        (R.IN_REVIEW, R.CANCELLED),
        (R.APPROVED, R.REJECTED),
        (R.REJECTED, R.APPROVED),
        (R.CANCELLED, R.QUEUED),
        (R.APPROVED, R.REFINING),
    ],
)
def test_illegal_request_moves_are_refused(current: RequestStatus, target: RequestStatus) -> None:
    with pytest.raises(IllegalTransition):
        advance_request(current, target)


def test_nothing_leaves_a_final_decision() -> None:
    for final in (R.APPROVED, R.REJECTED, R.CANCELLED):
        assert REQUEST_TRANSITIONS[final] == frozenset()


def test_only_review_reaches_approved() -> None:
    sources = [s for s, targets in REQUEST_TRANSITIONS.items() if R.APPROVED in targets]
    assert sources == [R.IN_REVIEW]


def test_render_life_cycle_in_order_and_no_way_back() -> None:
    status = S.QUEUED
    for target in (S.SUBMITTED, S.RUNNING, S.DOWNLOADING, S.POSTPROCESSING, S.READY):
        status = advance_render(status, target)
    with pytest.raises(IllegalTransition):
        advance_render(S.READY, S.RUNNING)
    with pytest.raises(IllegalTransition):
        advance_render(S.RUNNING, S.QUEUED)
    with pytest.raises(IllegalTransition):
        advance_render(S.DOWNLOADING, S.CANCELLED)
