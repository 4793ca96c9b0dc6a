"""Writes that arrive together are written together (bot/coalesce.py), and the deliverer records a
burst of finished deliveries that way."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.clock import SystemClock
from bot.coalesce import Coalescer
from bot.domain import ReplyTarget
from bot.domain_events import event
from bot.event_payloads import RequestCancelled
from bot.outbox import Deliverer, DeliveryConfig, Subscription, Subscriptions
from bot.ports.storage import OutboxEntry
from storage.database import make_engine
from storage.repository import SqlStore
from tests.support.seed import seed_queued

pytestmark = pytest.mark.timeout(60)


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def write(self, items: Sequence[int]) -> list[int | BaseException]:
        await self.gate.wait()
        self.batches.append(list(items))
        return [ValueError(f"bad {i}") if i < 0 else i * 10 for i in items]


async def test_items_arriving_while_a_batch_is_written_join_the_next_one() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    coalescer: Coalescer[int, int] = Coalescer(recorder.write, most=4)
    first = asyncio.create_task(coalescer.submit(0))
    await asyncio.sleep(0)  # the first item's batch is being written (held at the gate)
    rest = [asyncio.create_task(coalescer.submit(i)) for i in range(1, 7)]
    await asyncio.sleep(0)
    recorder.gate.set()
    assert await first == 0
    assert await asyncio.gather(*rest) == [10, 20, 30, 40, 50, 60]
    assert recorder.batches == [[0], [1, 2, 3, 4], [5, 6]]


async def test_one_failing_item_fails_alone_and_a_failing_write_fails_its_batch() -> None:
    recorder = Recorder()
    coalescer: Coalescer[int, int] = Coalescer(recorder.write)
    results = await asyncio.gather(*(coalescer.submit(i) for i in (1, -2, 3)), return_exceptions=True)
    assert results[0] == 10 and results[2] == 30 and isinstance(results[1], ValueError)

    async def broken(items: Sequence[int]) -> list[int | BaseException]:
        raise RuntimeError("database is down")

    failing: Coalescer[int, int] = Coalescer(broken)
    with pytest.raises(RuntimeError, match="database is down"):
        await failing.submit(1)
    assert await coalescer.submit(4) == 40  # a failed batch leaves the coalescer usable


class CountingSink:
    name = "thread"
    routes = None

    def __init__(self) -> None:
        self.delivered: list[str] = []

    async def deliver(self, entry: OutboxEntry) -> str | None:
        await asyncio.sleep(0)
        self.delivered.append(entry.key)
        return f"C1:{len(self.delivered)}.0"

    async def give_up(self, entry: OutboxEntry, error: str) -> None:
        raise AssertionError(f"gave up on {entry.key}: {error}")


async def test_a_burst_of_finished_deliveries_is_recorded_in_a_few_transactions(db_url: str) -> None:
    store = SqlStore(make_engine(db_url), Subscriptions([Subscription("thread", lambda e: "")]))
    try:
        renders = await seed_queued(store, 40)
        async with store.transaction() as tx:
            for render_id in renders:
                render = await store.renders.get_render(render_id)
                assert render is not None
                where = ReplyTarget("t", "W1", "C1")
                await tx.record(
                    event(RequestCancelled(by_name="x"), "U1", request_id=render.request_id, target=where)
                )
        calls: list[int] = []
        many = store.outbox.delivered_many

        async def counted(done: Sequence[tuple[str, str | None]], owner: str) -> None:
            calls.append(len(done))
            await many(done, owner)

        store.outbox.delivered_many = counted  # type: ignore[method-assign]
        sink = CountingSink()
        deliverer = Deliverer(
            outbox=store.outbox,
            uow=store,
            sinks=[sink],
            clock=SystemClock(),
            config=DeliveryConfig(owner="a"),
        )
        assert await deliverer.drain() == 40
        assert len(sink.delivered) == 40 and await store.outbox.pending() == 0
        assert sum(calls) == 40 and len(calls) < 10  # not one transaction per delivery
    finally:
        await store.close()
