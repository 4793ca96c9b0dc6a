"""Serve a fake's aiohttp app on a free loopback port, with a scratch folder for what it makes."""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path

from aiohttp import web


def unused_port() -> int:
    """A loopback port nothing listens on (for "the service is unreachable" tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoopbackServer:
    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.workdir: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def open(self, app: web.Application, prefix: str) -> None:
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        self.workdir = Path(tempfile.mkdtemp(prefix=prefix))

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
