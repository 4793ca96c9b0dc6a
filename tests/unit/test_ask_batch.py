"""Asks arriving together are written together (bot/ask_batch.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bot.ask_batch import AskBatcher
from bot.domain import ReplyTarget, RequestOptions, VideoRequest, new_id
from bot.domain_events import DomainEvent, event
from bot.event_payloads import RequestReceived
from storage.repository import SqlStore
from storage.tx import SqlTx


class CountingUnits:
    """The store's unit of work, counting the transactions that committed."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.committed = 0

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTx]:
        async with self.store.transaction() as tx:
            yield tx
        self.committed += 1


def ask(n: int, *, request_id: str | None = None) -> tuple[VideoRequest, DomainEvent]:
    target = ReplyTarget("slack", "T1", f"C{n}")
    request = VideoRequest(
        id=request_id or new_id("req"),
        target=target,
        requester=f"U{n}",
        raw_text=f"clip {n}",
        options=RequestOptions(),
    )
    received = RequestReceived(text=request.raw_text, options={}, requester_name=f"<@U{n}>")
    return request, event(received, request.requester, request_id=request.id, target=target)


async def test_a_burst_of_asks_is_written_in_a_few_transactions_each_once(store: SqlStore) -> None:
    units = CountingUnits(store)
    batcher = AskBatcher(units)
    asks = [ask(n) for n in range(300)]
    results = await asyncio.gather(*(batcher.record(f"slack:Ev{n}", r, e) for n, (r, e) in enumerate(asks)))
    assert results == [True] * 300
    # Asks that arrive while a batch is written go in the next, at most 256 to a batch.
    assert 2 <= units.committed <= 3
    for request, _ in asks:
        stored = await store.requests.get_request(request.id)
        assert stored is not None and stored.raw_text == request.raw_text
    received = [e for e in await store.audit.audit_events() if e.kind == "request.received"]
    assert sorted(e.request_id or "" for e in received) == sorted(r.id for r, _ in asks)


async def test_a_retried_delivery_in_the_same_burst_or_a_later_one_records_nothing(store: SqlStore) -> None:
    batcher = AskBatcher(store)
    first, again, later = ask(1), ask(1), ask(1)
    results = await asyncio.gather(
        batcher.record("slack:Ev1", *first),
        batcher.record("slack:Ev1", *again),
        batcher.record(None, *ask(2)),
    )
    assert list(results) == [True, False, True]
    assert await batcher.record("slack:Ev1", *later) is False
    assert await store.requests.get_request(first[0].id) is not None
    assert await store.requests.get_request(again[0].id) is None
    assert await store.requests.get_request(later[0].id) is None


async def test_one_bad_ask_in_a_batch_fails_alone_and_the_others_are_written(store: SqlStore) -> None:
    batcher = AskBatcher(store)
    taken = ask(0)
    assert await batcher.record(None, *taken)
    # The same request id again cannot be inserted: that ask fails, its neighbours do not.
    clash = ask(1, request_id=taken[0].id)
    others = [ask(n) for n in range(2, 6)]
    results = await asyncio.gather(
        *(batcher.record(None, *a) for a in [others[0], clash, *others[1:]]), return_exceptions=True
    )
    assert isinstance(results[1], Exception)
    assert [r for i, r in enumerate(results) if i != 1] == [True] * 4
    for request, _ in others:
        assert await store.requests.get_request(request.id) is not None
    stored = await store.requests.get_request(taken[0].id)
    assert stored is not None and stored.raw_text == "clip 0"


@pytest.mark.timeout(60)
async def test_an_ask_whose_caller_stops_waiting_is_still_written_whole(store: SqlStore) -> None:
    batcher = AskBatcher(store)
    request, received = ask(7)
    waiting = asyncio.create_task(batcher.record("slack:Ev7", request, received))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await batcher.idle()
    stored = await store.requests.get_request(request.id)
    assert stored is not None
    assert [e.kind for e in await store.audit.audit_events() if e.request_id == request.id] == [
        "request.received"
    ]
