"""A delivery posts only while it holds its outbox lease, and keeps renewing it through a failed renewal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

import pytest

from bot.clock import SystemClock
from bot.domain import ReplyTarget
from bot.domain_events import event
from bot.event_payloads import RequestCancelled
from bot.outbox import Deliverer, DeliveryConfig, Subscription, Subscriptions, hold_delivery
from bot.ports.storage import OutboxEntry
from storage.database import make_engine
from storage.repository import SqlStore
from tests.support.seed import seed_queued

pytestmark = pytest.mark.timeout(120)


class PostingSink:
    """Posts (records) after ``go``, fenced the way the Slack adapter fences a post."""

    name = "thread"

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.go = asyncio.Event()
        self.posted: list[str] = []

    @property
    def routes(self) -> Sequence[str] | None:
        return None

    async def deliver(self, entry: OutboxEntry) -> str | None:
        self.entered.set()
        await self.go.wait()
        await hold_delivery()
        self.posted.append(entry.key)
        return "C1:1.0"

    async def give_up(self, entry: OutboxEntry, error: str) -> None:
        raise AssertionError(f"gave up on {entry.key}: {error}")


@pytest.fixture
async def outbox_store(db_url: str) -> AsyncIterator[SqlStore]:
    store = SqlStore(make_engine(db_url), Subscriptions([Subscription("thread", lambda e: "")]))
    [render_id] = await seed_queued(store, 1)
    render = await store.renders.get_render(render_id)
    assert render is not None
    where = ReplyTarget("t", "W1", "C1")
    cancelled = event(RequestCancelled(by_name="one"), "U1", request_id=render.request_id, target=where)
    async with store.transaction() as tx:
        await tx.record(cancelled)
    yield store
    await store.close()


async def test_a_delivery_taken_over_while_it_stalled_does_not_post_and_stays_with_its_new_owner(
    outbox_store: SqlStore,
) -> None:
    store, sink = outbox_store, PostingSink()
    clock = SystemClock()
    a = Deliverer(outbox=store.outbox, uow=store, sinks=[sink], clock=clock, config=DeliveryConfig(owner="a"))
    delivering = asyncio.create_task(a.deliver_once())
    await asyncio.wait_for(sink.entered.wait(), 30)

    # A stalls past its lease; B's clock says it lapsed and B takes the entry.
    later = clock.now() + timedelta(seconds=120)
    [taken] = await store.outbox.claim_entries("b", later, 60, 10, [("thread", None)])
    sink.go.set()
    assert await asyncio.wait_for(delivering, 30) == 0
    assert sink.posted == []  # A did not post beside B
    assert "delivery.abandoned" not in [e.kind for e in await store.audit.audit_events()]

    await store.outbox.delivered(taken.id, "b", "C1:2.0")  # B's delivery is recorded as B made it
    assert await store.outbox.pending() == 0


async def test_a_delivery_still_holding_its_lease_posts_once(outbox_store: SqlStore) -> None:
    store, sink = outbox_store, PostingSink()
    sink.go.set()
    a = Deliverer(
        outbox=store.outbox, uow=store, sinks=[sink], clock=SystemClock(), config=DeliveryConfig(owner="a")
    )
    assert await a.deliver_once() == 1
    assert len(sink.posted) == 1 and await store.outbox.pending() == 0


async def test_a_failed_lease_renewal_does_not_end_the_renewing(outbox_store: SqlStore) -> None:
    store, sink = outbox_store, PostingSink()
    renew = store.outbox.renew
    calls: list[bool] = []
    renewed = asyncio.Event()

    async def flaky_renew(entry_id: str, owner: str, until: datetime) -> bool:
        calls.append(True)
        if len(calls) == 1:
            raise ConnectionError("the server dropped the connection")
        if len(calls) >= 3:
            renewed.set()
        return await renew(entry_id, owner, until)

    store.outbox.renew = flaky_renew  # type: ignore[method-assign]
    config = DeliveryConfig(owner="a", lease_seconds=0.3)  # renewed every 0.1 s
    a = Deliverer(outbox=store.outbox, uow=store, sinks=[sink], clock=SystemClock(), config=config)
    delivering = asyncio.create_task(a.deliver_once())
    await asyncio.wait_for(renewed.wait(), 60)  # renewals went on after the one that failed
    sink.go.set()
    assert await asyncio.wait_for(delivering, 30) == 1
    assert len(sink.posted) == 1
