"""Every life-cycle transition writes exactly one domain event, in the same transaction as its row."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from bot.domain import (
    Brief,
    Render,
    RenderStatus,
    ReplyTarget,
    RequestOptions,
    RequestStatus,
    Shot,
    VideoRequest,
    new_id,
)
from bot.domain_events import PAYLOAD_TYPES, event
from bot.event_kinds import RENDER_TARGETS, REQUEST_TARGETS, EventKind
from bot.event_payloads import Payload
from bot.lifecycle import RENDER_TRANSITIONS, REQUEST_TRANSITIONS
from bot.transitions import move_render, move_request
from storage.repository import SqlStore

WHERE = ReplyTarget("test", "W1", "C1", "T1")


def sample(kind: EventKind) -> Payload:
    """A payload of ``kind`` with a plain value in every field."""
    cls = PAYLOAD_TYPES[kind]
    hints = typing.get_type_hints(cls)
    values: dict[str, object] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        origin = typing.get_origin(hint)
        if type(None) in typing.get_args(hint):
            values[f.name] = None
        elif hint is str:
            values[f.name] = "x"
        elif hint is int:
            values[f.name] = 1
        elif hint is float:
            values[f.name] = 0.5
        elif hint is bool:
            values[f.name] = False
        elif origin is list:
            values[f.name] = []
        elif origin is dict:
            values[f.name] = {}
        else:
            raise AssertionError(f"no sample for {f.name}: {hint}")
    return cls(**values)


def kinds_to(status: RequestStatus) -> list[EventKind]:
    return [k for k, target in REQUEST_TARGETS.items() if target == status]


REQUEST_MOVES = [
    (a, b, k) for a, targets in REQUEST_TRANSITIONS.items() for b in targets for k in kinds_to(b)
]
RENDER_MOVES = [
    (a, b, k)
    for a, targets in RENDER_TRANSITIONS.items()
    for b in targets
    for k, t in RENDER_TARGETS.items()
    if t == b
]


async def _request_in(store: SqlStore, status: RequestStatus) -> VideoRequest:
    request = VideoRequest(new_id("req"), WHERE, "U1", "a kite", RequestOptions(), status=status)
    async with store.transaction() as tx:
        await tx.add_request(request)
    return request


def test_every_transition_has_an_event_that_explains_it() -> None:
    targets = {b for targets in REQUEST_TRANSITIONS.values() for b in targets}
    assert all(kinds_to(b) for b in targets), "a request state no event can move to"
    render_targets = {b for targets in RENDER_TRANSITIONS.values() for b in targets}
    assert render_targets <= set(RENDER_TARGETS.values())


@pytest.mark.parametrize(("start", "to", "kind"), REQUEST_MOVES, ids=lambda v: str(v))
async def test_each_request_transition_writes_its_row_and_exactly_one_event(
    store: SqlStore, start: RequestStatus, to: RequestStatus, kind: EventKind
) -> None:
    from bot.errors import IllegalTransition
    from bot.lifecycle import advance_request

    request = await _request_in(store, start)
    the_event = event(sample(kind), "U1", request_id=request.id, target=WHERE)
    try:
        advance_request(start, to)
    except IllegalTransition:
        pytest.skip(f"{start} → {to} is refused by the cancel rule")
    async with store.transaction() as tx:
        moved = await move_request(tx, request, the_event)
    assert moved is not None and moved.status == to
    [written] = await store.audit.audit_events(request_id=request.id)
    assert (written.kind, written.from_status, written.to_status) == (kind, start.value, to.value)
    assert written.payload == the_event.payload


async def test_a_move_rolled_back_leaves_neither_the_row_nor_its_event(store: SqlStore) -> None:
    request = await _request_in(store, RequestStatus.RECEIVED)
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await move_request(
                tx, request, event(sample(EventKind.REQUEST_REFINING), "U1", request_id=request.id)
            )
            raise RuntimeError("the next write failed")
    after = await store.requests.get_request(request.id)
    assert after is not None and after.status == RequestStatus.RECEIVED
    assert await store.audit.audit_events(request_id=request.id) == []


async def test_an_event_that_claims_another_move_cannot_be_written(store: SqlStore) -> None:
    from bot.errors import IllegalTransition

    request = await _request_in(store, RequestStatus.RECEIVED)
    approved = event(sample(EventKind.REVIEW_APPROVED), "U1", request_id=request.id)
    with pytest.raises(IllegalTransition):
        async with store.transaction() as tx:
            await move_request(tx, request, approved)
    assert await store.audit.audit_events(request_id=request.id) == []


@pytest.mark.parametrize(("start", "to", "kind"), RENDER_MOVES, ids=lambda v: str(v))
async def test_each_render_transition_writes_its_row_and_exactly_one_event(
    store: SqlStore, start: RenderStatus, to: RenderStatus, kind: EventKind
) -> None:
    request = await _request_in(store, RequestStatus.RENDERING)
    brief = Brief(
        request.id, 1, "p", "s", "s", "s", "l", "c", "", 4, "16:9", (Shot(1, 4.0, "a shot", "static"),)
    )
    render = Render(new_id("rnd"), request.id, brief.id, 1, "filejob", "m", 4, "1280x720", status=start)
    render.lease_owner = "w1"
    async with store.transaction() as tx:
        await tx.add_brief(brief)
        await tx.add_renders(request, [render])
    the_event = event(sample(kind), "clipdesk", request_id=request.id, render_id=render.id)
    async with store.transaction() as tx:
        assert await move_render(tx, render, the_event, owner="w1")
    saved = await store.renders.get_render(render.id)
    assert saved is not None and saved.status == to
    [written] = await store.audit.audit_events(request_id=request.id)
    assert (written.kind, written.from_status, written.to_status) == (kind, start.value, to.value)
    # Another worker's write changes nothing and records nothing.
    other = dataclasses.replace(render, status=start)
    if to in RENDER_TRANSITIONS[start]:
        async with store.transaction() as tx:
            assert not await move_render(tx, other, the_event, owner="someone-else")
    assert len(await store.audit.audit_events(request_id=request.id)) == 1
