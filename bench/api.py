"""REST API and review page: create → ``render.ready`` webhook latency, and review page load times.

(a) 100 ``POST /api/v1/requests`` at once against the real web app (uvicorn),
worker and outbox in one process with an instant provider; each request's
latency is from sending its POST to a local subscriber receiving its
``render.ready`` webhook (signature verified). (b) With 1,000 requests in the
database, a signed-in reviewer loads the queue and a request page.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from standardwebhooks import Webhook

from adapters.runtime.container import build_app
from adapters.runtime.scheduler import start_loops
from adapters.web.api.tokens import ALL_SCOPES, create_token
from adapters.web.app import create_web_app
from adapters.web.review.links import login_link
from adapters.web.review.signing import Reviewer
from adapters.web.server import WebServer
from bench.common import ms, percentile
from bot.commands import Actor, Caller, OpenRequest
from bot.domain import ReplyTarget
from storage.api_store import SqlApiStore
from storage.database import upgrade
from storage.media import LocalMediaStore
from tests.support.harness import test_settings
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider

AT_ONCE = 100
IN_DATABASE = 1000
PAGE_LOADS = 100


async def _create_to_webhook(tmp: Path) -> list[float]:
    received: dict[str, float] = {}
    secret_box: dict[str, str] = {}
    done = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        message = Webhook(secret_box["secret"]).verify(body, dict(request.headers))
        if message["type"] == "render.ready":
            received.setdefault(message["data"]["request_id"], time.perf_counter())
            if len(received) >= AT_ONCE:
                done.set()
        return web.Response(text="ok")

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook_port = runner.addresses[0][1]

    url = f"sqlite:///{tmp / 'api.db'}"
    upgrade(url)
    settings = test_settings(
        tmp,
        url,
        webhook_allow_private=True,
        api_rate_per_minute=100000.0,
        api_rate_burst=100000,
        worker_concurrency=16,
        tick_seconds=0.2,
    )
    media = LocalMediaStore(settings.media_dir)
    app = await build_app(
        settings,
        providers={"filejob": FileJobProvider(tmp / "jobs")},
        postprocessor=FilingPostProcessor(media),
        migrate=False,
    )
    web_app = create_web_app(app)
    server = WebServer(web_app, "127.0.0.1", 0)
    await server.start()
    settings.public_url = server.url
    loops = start_loops(app, render=True)
    try:
        store = SqlApiStore(app.store.engine)
        token, _ = await create_token(
            store,
            platform="bench",
            workspace="W",
            actor_id="U_BENCH",
            name="bench",
            scopes=frozenset(ALL_SCOPES),
            now=app.clock.now(),
        )
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.post(
                f"{server.url}/api/v1/webhooks", json={"url": f"http://127.0.0.1:{hook_port}/hook"}
            ) as r:
                secret_box["secret"] = (await r.json())["secret"]
            sent: dict[str, float] = {}

            async def one(i: int) -> None:
                started = time.perf_counter()
                async with http.post(
                    f"{server.url}/api/v1/requests", json={"prompt": f"a 4s demo of bottle {i}", "seconds": 4}
                ) as r:
                    assert r.status == 202, await r.text()
                    sent[(await r.json())["id"]] = started

            await asyncio.gather(*(one(i) for i in range(AT_ONCE)))
            await asyncio.wait_for(done.wait(), 600)
        return [received[rid] - started for rid, started in sent.items()]
    finally:
        await loops.stop()
        await server.stop()
        await app.close()
        await runner.cleanup()


async def _page_loads(tmp: Path) -> tuple[list[float], list[float]]:
    url = f"sqlite:///{tmp / 'review.db'}"
    upgrade(url)
    settings = test_settings(tmp, url)
    app = await build_app(settings, providers={"filejob": FileJobProvider(tmp / "jobs")}, migrate=False)
    web_app = create_web_app(app)
    server = WebServer(web_app, "127.0.0.1", 0)
    await server.start()
    settings.public_url = server.url
    try:
        caller = Caller(Actor("U_ASK", "<@U_ASK>"), ReplyTarget("bench", "W", "C1"))
        made = []
        for i in range(IN_DATABASE):  # recorded asks: the queue and the page read them as they are
            request = await app.usecases.intake.accept(OpenRequest(caller, f"a 4s demo of bottle {i}"))
            assert request is not None
            made.append(request.id)
        for request_id in made[-10:]:  # a few with a brief and an audit trail to show
            await app.usecases.intake.process(request_id)
        link = login_link(settings, Reviewer("bench", "W", "U_LEAD", "<@U_LEAD>"), app.clock.now())
        queue: list[float] = []
        page: list[float] = []
        # The server is an IP address: aiohttp keeps its cookies only when told to.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(link) as r:
                assert r.status == 200, await r.text()
            for i in range(PAGE_LOADS):
                started = time.perf_counter()
                async with http.get(f"{server.url}/review") as r:
                    assert r.status == 200
                    await r.read()
                queue.append(time.perf_counter() - started)
                started = time.perf_counter()
                async with http.get(f"{server.url}/review/requests/{made[-1 - i % 10]}") as r:
                    assert r.status == 200
                    await r.read()
                page.append(time.perf_counter() - started)
        return queue, page
    finally:
        await server.stop()
        await app.close()


async def run() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="clipdesk-bench-api-") as tmp:
        latencies = await _create_to_webhook(Path(tmp) / "a")
    with tempfile.TemporaryDirectory(prefix="clipdesk-bench-review-") as tmp:
        queue, page = await _page_loads(Path(tmp) / "b")
    return [
        f"API create → render.ready webhook, {AT_ONCE} at once (SQLite, instant provider): "
        f"p50 {ms(percentile(latencies, 50))}, p99 {ms(percentile(latencies, 99))}",
        f"review page with {IN_DATABASE} requests in the database ({PAGE_LOADS} loads each): "
        f"queue p95 {ms(percentile(queue, 95))}, request page p95 {ms(percentile(page, 95))}",
    ]
