"""The SQL store on SQLite and PostgreSQL: compare-and-set moves, leases, the outbox, idempotency."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain import AuditEvent, Delivery, RenderStatus, RequestStatus, new_id
from bot.errors import IllegalTransition
from storage.repository import SqlStore
from tests.support.seed import seed_queued

R = RequestStatus


async def test_a_platform_event_is_remembered_once(store: SqlStore) -> None:
    assert await store.remember_event("slack:Ev1") is True
    assert await store.remember_event("slack:Ev1") is False
    assert await store.remember_event("discord:Ev1") is True


async def test_move_request_is_a_compare_and_set(store: SqlStore) -> None:
    [render_id] = await seed_queued(store, 1)
    render = await store.get_render(render_id)
    assert render is not None
    audit = AuditEvent("test", "U1")
    assert await store.move_request(render.request_id, [R.QUEUED], R.RENDERING, audit=audit) is not None
    assert await store.move_request(render.request_id, [R.QUEUED], R.RENDERING, audit=audit) is None
    with pytest.raises(IllegalTransition):
        await store.move_request(render.request_id, [R.RENDERING], R.APPROVED, audit=audit)
    request = await store.get_request(render.request_id)
    assert request is not None and request.status == R.RENDERING


async def test_a_lease_is_exclusive_until_it_expires(store: SqlStore) -> None:
    ids = await seed_queued(store, 3)
    now = (await store.get_render(ids[0])).created_at + timedelta(seconds=1)  # type: ignore[union-attr]
    first = await store.claim_renders("w1", now, 30, 2)
    second = await store.claim_renders("w2", now, 30, 5)
    assert [r.id for r in first] == ids[:2] and [r.id for r in second] == ids[2:]
    assert await store.claim_renders("w3", now, 30, 5) == []
    later = now + timedelta(seconds=31)
    taken_over = await store.claim_renders("w3", later, 30, 5)
    assert {r.id for r in taken_over} == set(ids)
    # The old owners can neither renew nor write any more.
    assert await store.renew_lease(ids[0], "w1", later + timedelta(seconds=60)) is False
    render = first[0]
    render.progress = 50
    assert await store.save_render(render, "w1") is False
    assert await store.save_render(taken_over[0], "w3") is True


async def test_expired_leases_are_reaped_and_audited(store: SqlStore) -> None:
    [render_id] = await seed_queued(store, 1)
    created = (await store.get_render(render_id)).created_at  # type: ignore[union-attr]
    await store.claim_renders("dead", created, 5, 1)
    assert await store.reap_expired_leases(created + timedelta(seconds=1)) == []
    assert await store.reap_expired_leases(created + timedelta(seconds=10)) == [render_id]
    render = await store.get_render(render_id)
    assert render is not None and render.lease_owner is None
    assert "render.reaped" in [e.kind for e in await store.audit_events()]


async def test_a_finished_render_gives_up_its_lease_and_waits_in_line_no_more(store: SqlStore) -> None:
    ids = await seed_queued(store, 3)
    created = (await store.get_render(ids[0])).created_at  # type: ignore[union-attr]
    assert [await store.queue_position(i) for i in ids] == [1, 2, 3]
    [render] = await store.claim_renders("w1", created, 30, 1)
    render.status = RenderStatus.CANCELLED
    assert await store.save_render(render, "w1")
    saved = await store.get_render(render.id)
    assert saved is not None and saved.lease_owner is None
    assert await store.queue_position(ids[1]) == 1
    assert await store.claim_renders("w2", created + timedelta(days=1), 30, 5) != []


async def test_the_outbox_posts_each_entry_once_and_backs_off_after_a_failure(store: SqlStore) -> None:
    [render_id] = await seed_queued(store, 1)
    render = await store.get_render(render_id)
    assert render is not None
    now = render.created_at
    entry = Delivery(
        new_id("dlv"), f"clip:{render_id}", render.request_id, "test", "clip", {"render_id": render_id}
    )
    assert await store.enqueue(entry) is True
    assert await store.enqueue(entry) is False  # the key is unique
    assert await store.claim_deliveries("w1", now, 60, 10, ["discord"]) == []  # not this platform
    [claimed] = await store.claim_deliveries("w1", now, 60, 10, ["test"])
    assert await store.claim_deliveries("w2", now, 60, 10, ["test"]) == []  # leased
    await store.delivery_failed(claimed.id, "w1", "boom", now + timedelta(seconds=30), give_up=False)
    assert await store.claim_deliveries("w2", now + timedelta(seconds=1), 60, 10, ["test"]) == []
    [again] = await store.claim_deliveries("w2", now + timedelta(seconds=31), 60, 10, ["test"])
    assert again.attempts == 1
    await store.delivered(again.id, "w2", "C1:123.456")
    assert await store.delivery_ref(f"clip:{render_id}") == "C1:123.456"
    assert await store.claim_deliveries("w3", now + timedelta(days=1), 60, 10, ["test"]) == []
