"""Allowed asks move to refining together (bot/openings.py), on SQLite and PostgreSQL.

Also the thread presenter's batch write of the threads a burst opened (``set_threads``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bot.domain import ReplyTarget, RequestStatus, VideoRequest
from bot.domain_events import about
from bot.event_payloads import ModerationChecked, RequestFailed, RequestRefining
from bot.openings import Openings
from bot.transitions import move_requests
from storage.repository import SqlStore
from storage.tx import SqlTx
from tests.unit.test_ask_batch import CountingUnits, ask

R = RequestStatus


async def _recorded(store: SqlStore, n: int) -> list[VideoRequest]:
    requests = [ask(i)[0] for i in range(n)]
    async with store.transaction() as tx:
        await tx.add_requests(requests)
    return requests


def _open(openings: Openings, request: VideoRequest) -> asyncio.Future[VideoRequest | None]:
    checked = about(request, ModerationChecked(stage="ask", allowed=True, source="test"))
    return asyncio.ensure_future(openings.open(request, checked, about(request, RequestRefining())))


async def _kinds(store: SqlStore, request_id: str) -> list[str]:
    return [e.kind for e in await store.audit.audit_events() if e.request_id == request_id]


async def test_a_burst_of_asks_opens_in_a_few_transactions_each_with_its_events(store: SqlStore) -> None:
    requests = await _recorded(store, 150)
    units = CountingUnits(store)
    openings = Openings(units, most=100)
    moved = await asyncio.gather(*(_open(openings, r) for r in requests))
    assert [m.status if m else None for m in moved] == [R.REFINING] * 150
    assert [m.id for m in moved if m] == [r.id for r in requests]
    assert 2 <= units.committed <= 3  # the first alone, the rest in batches of at most 100
    for request in requests[::30]:
        assert await _kinds(store, request.id) == ["moderation.checked", "request.refining"]


async def test_an_ask_another_process_moved_first_is_not_moved_again(store: SqlStore) -> None:
    first, second = await _recorded(store, 2)
    openings = Openings(store)
    assert await _open(openings, first) is not None
    # Read as received, but refining now (the recovery sweep got there first): left to it.
    results = await asyncio.gather(_open(openings, first), _open(openings, second))
    assert results[0] is None and results[1] is not None
    assert (await _kinds(store, first.id)).count("request.refining") == 1
    # The same ask twice in one batch (opened and resumed at once) moves once.
    (third,) = await _recorded(store, 1)
    twice = await asyncio.gather(_open(openings, first), _open(openings, third), _open(openings, third))
    assert twice[1] is not None and twice[2] is None
    assert (await _kinds(store, third.id)).count("request.refining") == 1


class FailingOnce:
    """The store's unit of work, whose first transaction fails just before it commits."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.failed = False

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTx]:
        async with self.store.transaction() as tx:
            yield tx
            if not self.failed:
                self.failed = True
                raise ConnectionError("the database went away")


async def test_a_failed_batch_is_written_one_by_one_and_nothing_is_lost_or_doubled(store: SqlStore) -> None:
    requests = await _recorded(store, 5)
    units = FailingOnce(store)
    openings = Openings(units)
    moved = await asyncio.gather(*(_open(openings, r) for r in requests))
    assert units.failed
    assert all(m is not None and m.status == R.REFINING for m in moved)
    for request in requests:
        assert await _kinds(store, request.id) == ["moderation.checked", "request.refining"]


async def test_one_statement_moves_only_requests_making_the_same_move(store: SqlStore) -> None:
    a, b = await _recorded(store, 2)
    async with store.transaction() as tx:
        failed = about(b, RequestFailed(reason="gone"))
        with pytest.raises(ValueError):
            await move_requests(tx, [(a, about(a, RequestRefining())), (b, failed)])
        assert await move_requests(tx, []) == []
    assert [(await store.requests.get_request(r.id)) for r in (a, b)] == [a, b]  # nothing moved


async def test_threads_opened_together_are_recorded_in_one_write(store: SqlStore) -> None:
    requests = await _recorded(store, 3)
    threads = [
        (r.id, ReplyTarget("slack", "T1", r.target.channel, f"17000.{i}")) for i, r in enumerate(requests)
    ]
    await store.requests.set_threads(threads)
    await store.requests.set_threads([])
    for request_id, thread in threads:
        stored = await store.requests.get_request(request_id)
        assert stored is not None and stored.target == thread
