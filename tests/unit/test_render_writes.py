"""Render steps that are ready together commit together (bot/render_writes.py), on SQLite and
PostgreSQL: fewer transactions, and each step still learns its own outcome."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.event import listen as event_listen
from sqlalchemy.event import remove as event_remove

from bot.domain import Render, RenderStatus, utcnow
from bot.domain_events import event
from bot.event_payloads import RenderSubmitted
from bot.ports.storage import Tx
from bot.render_context import LeaseLost
from bot.render_writes import RenderWrites, Step
from bot.transitions import move_render
from storage.repository import SqlStore
from storage.tx import LeaseGone, renders_t
from tests.support.seed import claim, seed_queued
from tests.unit.test_ask_batch import CountingUnits

OWNER = "w1"


async def claimed(store: SqlStore, count: int) -> list[Render]:
    await seed_queued(store, count)
    renders = await claim(store, OWNER, utcnow(), 60.0, count)
    assert len(renders) == count
    return renders


def submitting(render: Render) -> Step:
    """The worker's "submitted" step for ``render``: a lease-checked move with its event."""

    async def step(tx: Tx) -> None:
        render.remote_id = f"job_{render.id}"
        submitted = RenderSubmitted(
            provider=render.provider,
            model=render.model,
            attempt=0,
            remote_id=render.remote_id,
            seed=1,
            cost_estimate=0.0,
        )
        moved = event(submitted, "clipdesk", request_id=render.request_id, render_id=render.id)
        if not await move_render(tx, render, moved, owner=OWNER):
            raise LeaseLost(render.id)

    return step


async def submitted_events(store: SqlStore) -> list[str]:
    return sorted(e.render_id or "" for e in await store.audit.audit_events() if e.kind == "render.submitted")


async def stored_status(store: SqlStore, render_id: str) -> RenderStatus:
    found = await store.renders.get_render(render_id)
    assert found is not None
    return found.status


async def test_a_burst_of_steps_commits_in_a_few_transactions_each_step_once(store: SqlStore) -> None:
    renders = await claimed(store, 12)
    units = CountingUnits(store)
    writes = RenderWrites(units, alone=(LeaseLost,))
    updates: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.startswith("UPDATE renders"):
            updates.append(statement)

    event_listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        await asyncio.gather(*(writes.write(r, submitting(r)) for r in renders))
    finally:
        event_remove(store.engine.sync_engine, "before_cursor_execute", count)
    assert units.committed <= 2  # the first step alone at most, then everything that arrived
    assert len(updates) <= 2  # a transaction's render saves go as one statement (an executemany)
    for render in renders:
        assert render.status == RenderStatus.SUBMITTED
        stored = await store.renders.get_render(render.id)
        assert stored is not None
        assert (stored.status, stored.remote_id, stored.lease_owner) == (
            RenderStatus.SUBMITTED,
            f"job_{render.id}",
            OWNER,
        )
    assert await submitted_events(store) == sorted(r.id for r in renders)


async def test_a_lost_lease_fails_its_own_step_and_the_others_commit(store: SqlStore) -> None:
    renders = await claimed(store, 6)
    taken = renders[3]
    async with store.engine.begin() as conn:  # another worker has it now
        await conn.execute(update(renders_t).where(renders_t.c.id == taken.id).values(lease_owner="w2"))
    writes = RenderWrites(store, alone=(LeaseLost,))
    results = await asyncio.gather(*(writes.write(r, submitting(r)) for r in renders), return_exceptions=True)
    assert [type(r) for r in results] == [type(None)] * 3 + [LeaseLost] + [type(None)] * 2
    assert taken.status == RenderStatus.QUEUED  # the in-memory render is as it was, too
    assert await stored_status(store, taken.id) == RenderStatus.QUEUED
    assert await submitted_events(store) == sorted(r.id for r in renders if r is not taken)


async def test_a_step_that_errs_fails_alone_and_the_others_are_moved_exactly_once(store: SqlStore) -> None:
    renders = await claimed(store, 4)
    broken = renders[2]

    async def errs(tx: Tx) -> None:
        await submitting(broken)(tx)  # moved, then the step fails: the whole batch rolls back
        raise RuntimeError("disk on fire")

    writes = RenderWrites(store, alone=(LeaseLost,))
    steps = [errs if r is broken else submitting(r) for r in renders]
    results = await asyncio.gather(
        *(writes.write(r, s) for r, s in zip(renders, steps, strict=True)), return_exceptions=True
    )
    assert isinstance(results[2], RuntimeError)
    assert [results[i] for i in (0, 1, 3)] == [None, None, None]
    # Each other step ran twice (together, then alone) from the render as handed in: one move each.
    assert await submitted_events(store) == sorted(r.id for r in renders if r is not broken)
    assert await stored_status(store, broken.id) == RenderStatus.QUEUED
    for render in renders:
        if render is not broken:
            assert await stored_status(store, render.id) == RenderStatus.SUBMITTED


async def test_held_saves_are_kept_only_if_every_one_still_holds_its_lease(store: SqlStore) -> None:
    renders = await claimed(store, 3)
    async with store.engine.begin() as conn:
        await conn.execute(update(renders_t).where(renders_t.c.id == renders[1].id).values(lease_owner="w2"))
    with pytest.raises(LeaseGone, match="1 of 3"):
        async with store.transaction() as tx:
            tx.hold_saves()
            for render in renders:
                render.progress = 50
                assert await tx.save_render(render, OWNER)  # held: told "saved" for now
    for render in renders:
        stored = await store.renders.get_render(render.id)
        assert stored is not None and stored.progress == 0  # none of the three was kept
    kept = [renders[0], renders[2]]
    async with store.transaction() as tx:
        tx.hold_saves()
        for render in kept:
            render.lease_expires_at = utcnow() + timedelta(seconds=5)
            assert await tx.save_render(render, OWNER)
    for render in kept:
        stored = await store.renders.get_render(render.id)
        assert stored is not None and stored.progress == 50
