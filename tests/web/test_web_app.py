"""The one web app: health, the API's home (OpenAPI, docs, routers plug in), and uvicorn on the loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from fastapi import APIRouter, FastAPI, Request

from adapters.web.app import API_PREFIX, create_web_app, include_api
from adapters.web.server import WebServer
from tests.support.harness import Harness, make_harness
from tests.support.web import serving


@pytest.fixture
async def harness(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Harness]:
    h = await make_harness(tmp_path, sqlite_url)
    yield h
    await h.close()


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.content_type, await response.text()


async def test_health_openapi_and_docs_are_served_and_api_routers_plug_in(harness: Harness) -> None:
    web_app = create_web_app(harness.app)
    router = APIRouter()

    @router.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    include_api(web_app, router)
    async with serving(web_app) as base:
        status, _, body = await get(f"{base}/healthz")
        assert status == 200 and '"ok":true' in body
        status, kind, body = await get(f"{base}{API_PREFIX}/openapi.json")
        assert status == 200 and kind == "application/json"
        assert f'"{API_PREFIX}/ping"' in body and "/slack/events" not in body and "/media" not in body
        status, kind, body = await get(f"{base}/api/docs")
        assert status == 200 and kind == "text/html" and f"{API_PREFIX}/openapi.json" in body
        assert (await get(f"{base}{API_PREFIX}/ping"))[2] == '{"pong":"yes"}'


async def test_the_old_media_folder_route_is_gone(harness: Harness) -> None:
    (harness.app.media.work_dir("downloads") / "original.mp4").write_bytes(b"unwatermarked")
    async with serving(create_web_app(harness.app)) as base:
        status, _, body = await get(f"{base}/media/downloads/original.mp4")
    assert status == 404 and "unwatermarked" not in body


async def test_a_port_in_use_fails_start_up_with_the_os_error() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        server = WebServer(FastAPI(), "127.0.0.1", taken.getsockname()[1])
        with pytest.raises(OSError):
            await server.start()
    finally:
        taken.close()


async def test_stopping_lets_a_request_in_flight_finish() -> None:
    app = FastAPI()
    entered = asyncio.Event()

    @app.get("/slow")
    async def slow(request: Request) -> dict[str, bool]:
        entered.set()
        await asyncio.sleep(0.3)
        return {"done": True}

    server = WebServer(app, "127.0.0.1", 0)
    await server.start()
    pending = asyncio.create_task(get(f"{server.url}/slow"))
    await asyncio.wait_for(entered.wait(), 10)
    await server.stop()
    status, _, body = await asyncio.wait_for(pending, 10)
    assert status == 200 and body == '{"done":true}'
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(f"{server.url}/slow")
