"""The SQL store on SQLite and PostgreSQL: compare-and-set moves, leases, the outbox, idempotency."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain import RenderStatus, ReplyTarget, RequestStatus, new_id, utcnow
from bot.domain_events import event
from bot.errors import IllegalTransition
from bot.event_payloads import RequestCancelled, RequestRendering
from bot.outbox import Subscription, Subscriptions
from bot.ports.storage import RequestFilter
from bot.transitions import move_request
from storage.api_store import EndpointRecord, SqlApiStore
from storage.repository import SqlStore
from tests.support.seed import claim, seed_queued

R = RequestStatus


async def test_a_platform_event_is_remembered_once(store: SqlStore) -> None:
    async with store.transaction() as tx:
        assert await tx.remember_event("slack:Ev1") is True
        assert await tx.remember_event("slack:Ev1") is False
        assert await tx.remember_event("discord:Ev1") is True


async def test_move_request_is_a_compare_and_set(store: SqlStore) -> None:
    [render_id] = await seed_queued(store, 1)
    render = await store.renders.get_render(render_id)
    assert render is not None
    request = await store.requests.get_request(render.request_id)
    assert request is not None
    rendering = event(RequestRendering(render_id=render_id), "clipdesk", request_id=request.id)
    async with store.transaction() as tx:
        assert await move_request(tx, request, rendering) is not None
    async with store.transaction() as tx:
        assert await move_request(tx, request, rendering) is None  # it is no longer queued
    with pytest.raises(IllegalTransition):
        async with store.transaction() as tx:
            cancelled = event(RequestCancelled(by_name="@x"), "U1", request_id=request.id)
            await move_request(tx, request, cancelled, expected=[R.RENDERING])
    moved = await store.requests.get_request(request.id)
    assert moved is not None and moved.status == R.RENDERING
    kinds = [e.kind for e in await store.audit.audit_events(request_id=request.id)]
    assert kinds == ["request.rendering"]


async def test_a_lease_is_exclusive_until_it_expires(store: SqlStore) -> None:
    ids = await seed_queued(store, 3)
    now = (await store.renders.get_render(ids[0])).created_at + timedelta(seconds=1)  # type: ignore[union-attr]
    first = await claim(store, "w1", now, 30, 2)
    second = await claim(store, "w2", now, 30, 5)
    assert [r.id for r in first] == ids[:2] and [r.id for r in second] == ids[2:]
    assert await claim(store, "w3", now, 30, 5) == []
    later = now + timedelta(seconds=31)
    taken_over = await claim(store, "w3", later, 30, 5)
    assert {r.id for r in taken_over} == set(ids)
    # The old owners can neither renew nor write any more.
    assert await store.renders.renew_lease(ids[0], "w1", later + timedelta(seconds=60)) is False
    render = first[0]
    render.progress = 50
    async with store.transaction() as tx:
        assert await tx.save_render(render, "w1") is False
        assert await tx.save_render(taken_over[0], "w3") is True


async def test_expired_leases_are_reaped_and_audited_with_whose_lease_it_was(store: SqlStore) -> None:
    [render_id] = await seed_queued(store, 1)
    created = (await store.renders.get_render(render_id)).created_at  # type: ignore[union-attr]
    await claim(store, "dead", created, 5, 1)
    assert await store.renders.reap_expired_leases(created + timedelta(seconds=1)) == []
    assert await store.renders.reap_expired_leases(created + timedelta(seconds=10)) == [render_id]
    render = await store.renders.get_render(render_id)
    assert render is not None and render.lease_owner is None
    [reaped] = [e for e in await store.audit.audit_events() if e.kind == "render.reaped"]
    assert reaped.data["lease_owner"] == "dead" and reaped.platform == "test"


async def test_a_finished_render_gives_up_its_lease_and_waits_in_line_no_more(store: SqlStore) -> None:
    ids = await seed_queued(store, 3)
    created = (await store.renders.get_render(ids[0])).created_at  # type: ignore[union-attr]
    assert [await store.renders.queue_position(i) for i in ids] == [1, 2, 3]
    [render] = await claim(store, "w1", created, 30, 1)
    render.status = RenderStatus.CANCELLED
    async with store.transaction() as tx:
        assert await tx.save_render(render, "w1")
    saved = await store.renders.get_render(render.id)
    assert saved is not None and saved.lease_owner is None
    assert await store.renders.queue_position(ids[1]) == 1
    assert await claim(store, "w2", created + timedelta(days=1), 30, 5) != []


async def test_the_outbox_delivers_each_entry_once_in_order_and_backs_off_after_a_failure(
    db_url: str,
) -> None:
    from storage.database import make_engine

    subs = Subscriptions([Subscription("thread", lambda e: e.platform or None)])
    store = SqlStore(make_engine(db_url), subs)
    try:
        [render_id] = await seed_queued(store, 1)
        render = await store.renders.get_render(render_id)
        assert render is not None
        where = ReplyTarget("test", "W1", "C1")
        first = event(RequestCancelled(by_name="one"), "U1", request_id=render.request_id, target=where)
        second = event(RequestCancelled(by_name="two"), "U1", request_id=render.request_id, target=where)
        async with store.transaction() as tx:
            await tx.record(first)
            await tx.record(second)
        now = render.created_at
        assert await store.outbox.claim_entries("w1", now, 60, 10, [("thread", ["discord"])]) == []
        [claimed] = await store.outbox.claim_entries("w1", now, 60, 10, [("thread", ["test"])])
        assert claimed.event.id == first.id  # the second waits for the first
        assert await store.outbox.claim_entries("w2", now, 60, 10, [("thread", ["test"])]) == []
        await store.outbox.delivery_failed(
            claimed.id, "w1", "boom", now + timedelta(seconds=30), give_up=False
        )
        assert (
            await store.outbox.claim_entries("w2", now + timedelta(seconds=1), 60, 10, [("thread", None)])
            == []
        )
        [again] = await store.outbox.claim_entries(
            "w2", now + timedelta(seconds=31), 60, 10, [("thread", None)]
        )
        assert again.attempts == 1 and again.event.payload == first.payload
        await store.outbox.delivered(again.id, "w2", "C1:123.456")
        [then] = await store.outbox.claim_entries(
            "w3", now + timedelta(seconds=32), 60, 10, [("thread", None)]
        )
        assert then.event.id == second.id
        await store.outbox.delivered(then.id, "w3", None)
        assert (
            await store.outbox.claim_entries("w3", now + timedelta(days=1), 60, 10, [("thread", None)]) == []
        )
        assert await store.outbox.pending() == 0
    finally:
        await store.close()


async def test_requests_page_newest_first_within_one_workspace(store: SqlStore) -> None:
    await seed_queued(store, 5, target=ReplyTarget("test", "W1", "C1", "T1"))
    await seed_queued(store, 2, target=ReplyTarget("test", "W2", "C1", "T1"))
    where = RequestFilter("test", "W1")
    first = await store.requests.list_requests(where, limit=2, cursor=None)
    assert len(first.items) == 2 and first.next_cursor
    second = await store.requests.list_requests(where, limit=2, cursor=first.next_cursor)
    third = await store.requests.list_requests(where, limit=2, cursor=second.next_cursor)
    seen = [r.id for r in first.items + second.items + third.items]
    assert len(seen) == len(set(seen)) == 5 and third.next_cursor is None
    assert all(r.target.workspace == "W1" for r in first.items + second.items + third.items)
    created = [r.created_at for r in first.items + second.items + third.items]
    assert created == sorted(created, reverse=True)


async def test_requests_are_read_many_at_once_and_unknown_ids_are_left_out(store: SqlStore) -> None:
    render_ids = await seed_queued(store, 3)
    request_ids = []
    for render_id in render_ids:
        render = await store.renders.get_render(render_id)
        assert render is not None
        request_ids.append(render.request_id)
    found = await store.requests.get_requests([*request_ids, "req_missing"])
    assert set(found) == set(request_ids)
    for request_id in request_ids:
        assert found[request_id] == await store.requests.get_request(request_id)
    assert await store.requests.get_requests([]) == {}


async def test_endpoints_of_several_workspaces_are_one_read_and_keep_platforms_apart(store: SqlStore) -> None:
    api = SqlApiStore(store.engine)
    now = utcnow()

    def endpoint(platform: str, workspace: str, url: str, minutes: int) -> EndpointRecord:
        return EndpointRecord(
            id=new_id("whe"),
            platform=platform,
            workspace=workspace,
            url=url,
            secrets=("whsec_x",),
            events=frozenset({"render.ready"}),
            source="api",
            created_at=now + timedelta(minutes=minutes),
        )

    # The same workspace id on two platforms is two workspaces.
    slack_late = endpoint("slack", "T1", "https://a.example/late", 2)
    slack_early = endpoint("slack", "T1", "https://a.example/early", 1)
    discord = endpoint("discord", "T1", "https://b.example/hook", 0)
    other = endpoint("slack", "T2", "https://c.example/hook", 0)
    for record in (slack_late, slack_early, discord, other):
        await api.add_endpoint(record)
    assert await api.delete_endpoint(other.id, other.platform, other.workspace, now)
    found = await api.endpoints_of([("slack", "T1"), ("discord", "T1"), ("slack", "T2"), ("slack", "T9")])
    assert [e.url for e in found[("slack", "T1")]] == [slack_early.url, slack_late.url]  # oldest first
    assert [e.url for e in found[("discord", "T1")]] == [discord.url]
    assert found[("slack", "T2")] == []  # deleted
    assert found[("slack", "T9")] == []
    assert found[("slack", "T1")] == await api.endpoints("slack", "T1")
