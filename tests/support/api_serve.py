"""``clipdesk serve`` as a subprocess for REST API tests, with tokens made by ``clipdesk tokens create``."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from multidict import CIMultiDict

from tests.fakes.loopback import unused_port
from tests.support.cli_run import ROOT, clean_environment, clipdesk
from tests.support.waiting import wait_for

RAW = ("OPENAI_", "CLIPDESK_")  # settings passed as they are, not prefixed
ALL = "requests:read,requests:write,reviews:decide,webhooks:manage"


@dataclass
class Served:
    """A running ``clipdesk serve``: its base URL, data folder and environment."""

    base: str
    tmp: Path
    env: dict[str, str]
    proc: asyncio.subprocess.Process

    async def token(self, workspace: str, actor: str, scopes: str = ALL, platform: str = "slack") -> str:
        run = await clipdesk(
            self.tmp,
            "tokens",
            "create",
            "--workspace",
            workspace,
            "--actor",
            actor,
            "--platform",
            platform,
            "--scopes",
            scopes,
            "--json",
            env=self.env,
        )
        assert run.code == 0, run.err
        token: str = json.loads(run.out)["token"]
        return token

    async def call(
        self,
        method: str,
        path: str,
        token: str | None,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, CIMultiDict[str], Any]:
        """One API call; returns the status, the headers and the JSON body (``None`` if empty)."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data: bytes | None = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, self.base + path, data=data, headers=sent) as response,
        ):
            text = await response.text()
            return response.status, CIMultiDict(response.headers), json.loads(text) if text else None

    async def status_of(self, token: str, request_id: str) -> str:
        code, _, body = await self.call("GET", f"/api/v1/requests/{request_id}", token)
        assert code == 200, body
        status: str = body["status"]
        return status

    async def until_status(
        self, token: str, request_id: str, *wanted: str, seconds: float = 90
    ) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            code, _, body = await self.call("GET", f"/api/v1/requests/{request_id}", token)
            assert code == 200, body
            assert body["status"] not in ("failed", "blocked") or body["status"] in wanted, body
            return body if body["status"] in wanted else None

        found: dict[str, Any] = await wait_for(reached, seconds=seconds)
        return found


@asynccontextmanager
async def serve(tmp: Path, **settings: str) -> AsyncIterator[Served]:
    """Run ``clipdesk serve`` on a free port with ``CLIPDESK_*`` settings; stop it with SIGTERM after."""
    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "CLIPDESK_HTTP_PORT": str(port),
        "CLIPDESK_PUBLIC_URL": base,
        # Tests poll; the rate-limit test sets its own limits.
        "CLIPDESK_API_RATE_PER_MINUTE": "60000",
        "CLIPDESK_API_RATE_BURST": "10000",
        **{
            k.upper() if k.upper().startswith(RAW) else f"CLIPDESK_{k.upper()}": v
            for k, v in settings.items()
        },
    }
    full = clean_environment(tmp)
    full.update(env)
    log = (tmp / "serve.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "adapters.runtime.cli", "serve", cwd=tmp, env=full, stdout=log, stderr=log
    )
    served = Served(base, tmp, env, proc)

    async def healthy() -> bool:
        if proc.returncode is not None:
            raise AssertionError((tmp / "serve.log").read_text())
        try:
            async with aiohttp.ClientSession() as http, http.get(base + "/healthz") as r:
                return r.status == 200
        except aiohttp.ClientConnectionError:
            return False

    try:
        await wait_for(healthy, seconds=60)
        yield served
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        log.close()


__all__ = ["ROOT", "Served", "serve"]
