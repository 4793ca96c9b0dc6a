"""(c) Latency from a `/video` event to the first thread message, 200 requests arriving at once."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from adapters.runtime.container import build_app
from adapters.runtime.heap import settle_heap, unsettle_heap
from bench.common import PG_URL, drop_postgres, fresh_postgres, ms, percentile
from bot.domain import ReplyTarget, new_id
from bot.events import Actor, VideoCommand
from bot.messages import Message
from storage.database import upgrade
from storage.media import LocalMediaStore
from tests.support.chat import RecordingChat
from tests.support.harness import test_settings
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider

REQUESTS = 200


class TimingChat(RecordingChat):
    def __init__(self) -> None:
        super().__init__("bench")
        self.first_at: dict[str, float] = {}

    async def start_thread(
        self, target: ReplyTarget, message: Message, *, key: str | None = None
    ) -> tuple[ReplyTarget, str]:
        self.first_at.setdefault(target.channel, time.perf_counter())
        return await super().start_thread(target, message, key=key)


async def _run(url: str, tmp: Path) -> list[float]:
    chat = TimingChat()
    settings = test_settings(tmp, url)
    media = LocalMediaStore(settings.media_dir)
    app = await build_app(
        settings,
        chat_ports=[chat],
        providers={"filejob": FileJobProvider(tmp / "jobs")},
        postprocessor=FilingPostProcessor(media),
        migrate=False,
    )
    settle_heap()  # as `clipdesk serve` does once it has started
    try:
        events = [
            VideoCommand(
                ReplyTarget("bench", "W", f"C{i}"),
                Actor(f"U{i}"),
                f"a 4s product demo of bottle number {i}",
                new_id("evt"),
            )
            for i in range(REQUESTS)
        ]
        started: dict[str, float] = {}

        async def one(event: VideoCommand) -> None:
            started[event.target.channel] = time.perf_counter()
            await app.conversation.handle(event)

        # The first message is an outbox delivery (opening the thread): the deliverer runs as in
        # `serve`, woken by the commits.
        delivering = asyncio.create_task(app.deliverer.run(tick=1.0))
        try:
            await asyncio.gather(*(one(e) for e in events))
            deadline = time.monotonic() + 120
            while len(chat.first_at) < len(started) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        finally:
            delivering.cancel()
            await asyncio.gather(delivering, return_exceptions=True)
        missing = len(started) - len(chat.first_at)
        if missing:
            raise RuntimeError(f"{missing} of {len(started)} threads never got their first message")
        return [chat.first_at[c] - started[c] for c in started]
    finally:
        await app.close()
        unsettle_heap()


async def run() -> list[str]:
    lines = [f"(c) /video event → first thread message, {REQUESTS} requests at once (offline refiner)"]
    for backend in ("sqlite", "postgres"):
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            if backend == "sqlite":
                url = f"sqlite:///{tmp / 'bench.db'}"
                upgrade(url)
            else:
                maybe = fresh_postgres(PG_URL, "clipdesk_bench_latency")
                if maybe is None:
                    lines.append("    postgres: unreachable, skipped")
                    continue
                url = maybe
            try:
                latencies = await _run(url, tmp)
            finally:
                if backend == "postgres":
                    drop_postgres(PG_URL, url)
            lines.append(
                f"    {backend:<8} p50 {ms(percentile(latencies, 50))}, p99 {ms(percentile(latencies, 99))}"
            )
    return lines
