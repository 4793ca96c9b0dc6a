"""A burst of asks: every ask gets its thread at once, while only a few are refined at a time.

The thread opens when the ask's ``request.refining`` entry is delivered. These tests run the
deliverer as `serve` does (woken by commits) and hold the refiner or another sink still, so
they show what waits for what without measuring time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection, Sequence
from pathlib import Path

import pytest

from adapters.runtime.container import App, build_app
from bot.domain import Brief, ReplyTarget, RequestStatus, VideoRequest, new_id
from bot.domain_events import DomainEvent
from bot.events import Actor, VideoCommand
from bot.outbox import Subscription
from bot.ports.llm import Clarification, RefineInput
from bot.ports.storage import OutboxEntry
from bot.refiner import OfflineRefiner
from storage.api_store import EndpointRecord, SqlApiStore
from storage.media import LocalMediaStore
from tests.support.chat import RecordingChat
from tests.support.harness import test_settings
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(240)

ASKS = 20


class GatedRefiner:
    """The offline refiner, held at a gate; counts how many asks it is refining at once."""

    name = "offline"

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.refining = 0
        self.most = 0
        self.calls = 0
        self._offline = OfflineRefiner()

    async def refine(self, data: RefineInput) -> Brief | Clarification:
        self.calls += 1
        self.refining += 1
        self.most = max(self.most, self.refining)
        try:
            await self.gate.wait()
            return await self._offline.refine(data)
        finally:
            self.refining -= 1


class StuckSink:
    """A sink (think: a webhook endpoint that never answers) that wants every event and never finishes."""

    name = "stuck"
    routes: Sequence[str] | None = None
    concurrency = 16  # fewer at once than the deliverer's default, as outgoing webhooks ask

    def __init__(self) -> None:
        self.started = 0

    async def deliver(self, entry: OutboxEntry) -> str | None:
        self.started += 1
        await asyncio.Event().wait()
        return None

    async def give_up(self, entry: OutboxEntry, error: str) -> None:
        return None


def _every_event(event: DomainEvent) -> str | None:
    return "" if event.request_id else None


async def _app(tmp_path: Path, db_url: str, chat: RecordingChat, **build: object) -> App:
    config = test_settings(tmp_path, db_url, intake_concurrency=3)
    return await build_app(
        config,
        chat_ports=[chat],
        providers={"filejob": FileJobProvider(tmp_path / "jobs")},
        postprocessor=FilingPostProcessor(LocalMediaStore(config.media_dir)),
        migrate=False,
        **build,  # type: ignore[arg-type]
    )


@contextlib.asynccontextmanager
async def delivering(app: App) -> AsyncIterator[None]:
    """The deliverer's loop as `serve` runs it, stopped before the app closes."""
    task = asyncio.create_task(app.deliverer.run(tick=0.05))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _asks(count: int) -> list[VideoCommand]:
    return [
        VideoCommand(
            ReplyTarget("test", "W1", f"C{i}"), Actor(f"U{i}"), f"a 4s demo of bottle {i}", new_id("evt")
        )
        for i in range(count)
    ]


async def test_a_burst_of_asks_all_get_their_thread_while_at_most_the_bound_are_refining(
    tmp_path: Path, db_url: str
) -> None:
    chat = RecordingChat("test")
    refiner = GatedRefiner()
    app = await _app(tmp_path, db_url, chat, refiner=refiner)
    try:
        async with delivering(app):
            asks = [asyncio.create_task(app.conversation.handle(e)) for e in _asks(ASKS)]

            async def threads_open_and_refiner_full() -> bool:
                return len(chat.of_kind("parent")) == ASKS and refiner.refining == 3

            # Every ask has its thread although three asks hold the refiner and the others wait.
            await wait_for(threads_open_and_refiner_full)
            assert {s.target.channel for s in chat.of_kind("parent")} == {f"C{i}" for i in range(ASKS)}

            # The sweep for abandoned asks leaves the waiting ones alone: they are not abandoned.
            assert await asyncio.wait_for(app.usecases.intake.resume_stale(grace_seconds=0), 60) == []

            refiner.gate.set()
            await asyncio.wait_for(asyncio.gather(*asks), 120)
            assert refiner.most == 3
            assert refiner.calls == ASKS
            unfinished = (RequestStatus.RECEIVED, RequestStatus.REFINING)
            now = app.clock.now()
            assert await app.store.requests.stale_intake(now, unfinished, now, ASKS) == []
    finally:
        refiner.gate.set()
        await app.close()


async def test_a_sink_that_never_finishes_does_not_hold_up_the_threads(tmp_path: Path, db_url: str) -> None:
    chat = RecordingChat("test")
    app = await _app(tmp_path, db_url, chat)
    stuck = StuckSink()
    app.store.subscriptions.add(Subscription(stuck.name, _every_event))
    app.deliverer.add(stuck)
    try:
        async with delivering(app):
            # More asks than the stuck sink's lane has slots: it fills all of its own and gets no more.
            assert stuck.concurrency < app.deliverer.config.concurrency
            count = stuck.concurrency + 8
            await asyncio.wait_for(asyncio.gather(*(app.conversation.handle(e) for e in _asks(count))), 120)

            async def every_thread_open() -> bool:
                return len(chat.of_kind("parent")) == count

            await wait_for(every_thread_open)

            async def briefs_shown() -> bool:
                return len(chat.of_kind("post")) >= count

            await wait_for(briefs_shown)
            assert stuck.started == stuck.concurrency
    finally:
        await app.close()


async def test_a_burst_of_threads_reads_its_requests_and_webhook_endpoints_in_a_few_queries(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deliveries that start together share their reads: 200 reads each held a burst's threads up."""
    chat = RecordingChat("test")
    refiner = GatedRefiner()  # held: only the thread-opening and webhook entries are delivered
    app = await _app(tmp_path, db_url, chat, refiner=refiner)
    requests = app.store.requests
    endpoints: SqlApiStore = app.deliverer.sinks["webhooks"].store  # type: ignore[attr-defined]
    request_reads: list[int] = []
    endpoint_reads: list[int] = []
    read_requests, read_endpoints = requests.get_requests, endpoints.endpoints_of

    async def counted_requests(ids: Collection[str]) -> dict[str, VideoRequest]:
        request_reads.append(len(ids))
        return await read_requests(ids)

    async def counted_endpoints(
        pairs: Collection[tuple[str, str]],
    ) -> dict[tuple[str, str], list[EndpointRecord]]:
        endpoint_reads.append(len(pairs))
        return await read_endpoints(pairs)

    monkeypatch.setattr(requests, "get_requests", counted_requests)
    monkeypatch.setattr(endpoints, "endpoints_of", counted_endpoints)
    count = 60
    try:
        async with delivering(app):
            asks = [asyncio.create_task(app.conversation.handle(e)) for e in _asks(count)]

            async def every_thread_open() -> bool:
                return len(chat.of_kind("parent")) == count

            await wait_for(every_thread_open)
            # Each thread-opening delivery read its request; together, not one query each.
            assert sum(request_reads) >= count
            assert len(request_reads) < count / 4, request_reads

            async def webhook_entries_delivered() -> bool:
                return await app.store.outbox.pending("webhooks") == 0

            await wait_for(webhook_entries_delivered)
            # Every public event of the burst looked for its workspace's endpoints (W1 has none).
            assert sum(endpoint_reads) >= count
            assert len(endpoint_reads) < count / 4, endpoint_reads
            refiner.gate.set()
            await asyncio.wait_for(asyncio.gather(*asks), 120)
    finally:
        refiner.gate.set()
        await app.close()
