"""Slack slash-command ack latency in HTTP mode: 200 signed `/video` at once, clipdesk next to bare Bolt.

The app under test runs alone on this process's event loop; the fake Slack
Web API and the load generator each run in their own process, so neither
competes with it for the GIL. Requests are signed just before they are sent
(Bolt refuses a signature older than 5 minutes); each latency runs from the
send to the full response. The floor is a Bolt app whose only listener acks,
served the same way (FastAPI on uvicorn through Bolt's FastAPI adapter,
``POST /slack/events``, signature check on).
Rounds alternate which app goes first, and each batch starts with no work
pending from the other; the figures pool every round. Loopback only; every
wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing as mp
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from fastapi import FastAPI, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp

from adapters.runtime.container import App, build_app
from adapters.runtime.heap import settle_heap, unsettle_heap
from adapters.runtime.settings import Settings
from adapters.slack.client import web_client
from adapters.slack.platform import EVENTS_PATH, SlackPlatform, slack_platform
from adapters.web.app import create_web_app
from adapters.web.server import WebServer
from bench.common import load_average, ms, percentile
from storage.database import upgrade
from storage.media import LocalMediaStore
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider

REQUESTS = 200
ROUNDS = 3
WAIT = 120.0  # seconds: the bound on every step


# ---------------------------------------------------------------------- child processes


def _fake_slack_main(conn: Connection) -> None:
    """Serve the fake Web API until told to stop."""

    async def main() -> None:
        fake = await FakeSlack().start()
        conn.send(fake.url)
        await asyncio.to_thread(conn.recv)
        await fake.close()

    asyncio.run(main())


def _load_main(conn: Connection, fake_url: str) -> None:
    """Fire batches of signed slash commands on request: ``(url, channel, n)`` → ``[(status, seconds)]``."""
    signer = FakeSlack()
    signer.url = fake_url  # where the commands' response_url points

    async def fire(url: str, channel: str, n: int) -> list[tuple[int, float]]:
        requests = [
            signer.build_command(
                f"a 4s product demo of bottle {i}, vertical", user=f"U{i:04d}", channel=channel
            )
            for i in range(n)
        ]
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

            async def one(body: str, headers: dict[str, str]) -> tuple[int, float]:
                started = time.perf_counter()
                async with session.post(url, data=body.encode(), headers=headers) as response:
                    await response.read()
                    return response.status, time.perf_counter() - started

            return await asyncio.gather(*(one(r.body, r.headers) for r in requests))

    while (job := conn.recv()) is not None:
        conn.send(asyncio.run(fire(*job)))


class _Child:
    def __init__(self, target: Any, *args: Any) -> None:
        self.conn, child_end = mp.get_context("spawn").Pipe()
        self.process = mp.get_context("spawn").Process(target=target, args=(child_end, *args), daemon=True)
        self.process.start()

    async def recv(self) -> Any:
        if not await asyncio.wait_for(asyncio.to_thread(self.conn.poll, WAIT), WAIT + 5):
            raise TimeoutError("a benchmark helper process did not answer")
        return self.conn.recv()

    async def ask(self, message: Any) -> Any:
        self.conn.send(message)
        return await self.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


# ---------------------------------------------------------------------- the two apps


def _bare_bolt(api_url: str) -> FastAPI:
    bolt = AsyncApp(
        client=web_client(BOT_TOKEN, api_url), signing_secret=SIGNING_SECRET, process_before_response=False
    )

    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    bolt.command("/video")(ack_only)

    handler = AsyncSlackRequestHandler(bolt)

    async def handle(request: Request) -> Response:
        return await handler.handle(request)

    web_app = FastAPI()
    web_app.add_api_route(EVENTS_PATH, handle, methods=["POST"])
    return web_app


async def _clipdesk(api_url: str, tmp: Path) -> tuple[App, SlackPlatform, FastAPI]:
    settings = Settings(_env_file=None)
    settings.data_dir = tmp / "data"
    settings.database_url = f"sqlite:///{tmp / 'clipdesk.db'}"
    settings.provider = "filejob"
    settings.slack_bot_token = BOT_TOKEN
    settings.slack_signing_secret = SIGNING_SECRET
    settings.slack_api_url = api_url
    await asyncio.to_thread(upgrade, settings.database_url)
    platform = slack_platform(settings, receive=True)
    app = await build_app(
        settings,
        chat_ports=[platform.port],
        providers={"filejob": FileJobProvider(tmp / "jobs")},
        postprocessor=FilingPostProcessor(LocalMediaStore(settings.media_dir)),
        migrate=False,
    )
    web_app = create_web_app(app)
    await platform.start(app, web_app)
    return app, platform, web_app


def _line(label: str, results: list[tuple[int, float]]) -> str:
    seconds = [s for _, s in results]
    ok = sum(1 for status, _ in results if status == 200)
    return (
        f"  {label:<22} p50 {ms(percentile(seconds, 50)):>9}  p99 {ms(percentile(seconds, 99)):>9}"
        f"  ({ok}/{len(results)} acked with 200)"
    )


async def run() -> list[str]:
    fake = _Child(_fake_slack_main)
    load: _Child | None = None
    servers: list[WebServer] = []
    try:
        api_url = f"{await fake.recv()}/api/"
        load = _Child(_load_main, api_url.removesuffix("/api/"))
        with tempfile.TemporaryDirectory() as tmp:
            app, platform, ours_web = await _clipdesk(api_url, Path(tmp))
            try:
                for web_app in (_bare_bolt(api_url), ours_web):
                    servers.append(WebServer(web_app, "127.0.0.1", 0))
                    await servers[-1].start()
                floor_url, ours_url = (f"{server.url}{EVENTS_PATH}" for server in servers)
                for url in (floor_url, ours_url):  # warm up: auth.test, connections, the database
                    await load.ask((url, "C0WARM", 1))
                await asyncio.wait_for(platform.drain(), WAIT)
                settle_heap()  # as `clipdesk serve` does once it has started; both apps share it
                floor: list[tuple[int, float]] = []
                ours: list[tuple[int, float]] = []
                behind: list[float] = []
                for round_ in range(ROUNDS):
                    for which in ("floor", "ours") if round_ % 2 == 0 else ("ours", "floor"):
                        gc.collect()  # start each batch from the same clean heap
                        if which == "floor":
                            floor += await load.ask((floor_url, "C0FLOOR", REQUESTS))
                            continue
                        ours += await load.ask((ours_url, "C0BENCH", REQUESTS))
                        started = time.perf_counter()
                        await asyncio.wait_for(platform.drain(), WAIT)  # the work behind the acks
                        behind.append(time.perf_counter() - started)
                opened = sum(1 for e in await app.store.audit.audit_events() if e.kind == "request.received")
            finally:
                for server in servers:
                    await server.stop()
                await platform.stop()
                await app.close()
                unsettle_heap()
    finally:
        if load is not None:
            load.stop()
        fake.stop()
    return [
        f"slash-command ack latency: {REQUESTS} signed /video at once over HTTP (loopback), "
        f"{ROUNDS} rounds pooled",
        _line("bare Bolt, ack only", floor),
        _line("clipdesk", ours),
        f"  behind clipdesk's acks: {opened - 1} requests opened; each round's work done "
        f"{max(behind):.1f} s (worst round) after its last ack (SQLite, offline refiner, fake Web API)",
        f"  load average at the end: {load_average()} (a shared machine makes these figures noisy)",
    ]


if __name__ == "__main__":
    for text in asyncio.run(run()):
        print(text)
