"""Serve an ASGI app on a free loopback port for a test, the way ``clipdesk serve`` does (uvicorn)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from starlette.types import ASGIApp

from adapters.web.server import WebServer


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT``) while ``app`` is served."""
    server = WebServer(app, "127.0.0.1", 0)
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()


RESET = 0  # what post_streaming returns when the refusal's answer was lost to a connection reset


async def post_streaming(
    url: str, body_size: int, *, filler: bytes, chunked: bool = False, headers: dict[str, str] | None = None
) -> int:
    """POST ``body_size`` bytes of ``filler`` while reading the answer; return its HTTP status.

    A server that refuses a body early answers before it is sent; reading the
    status while still writing sees that answer instead of a reset connection.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    lines = [f"POST {parts.path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {body_size}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    piece = (filler * (65536 // len(filler) + 1))[:65536]

    async def send_body() -> None:
        sent = 0
        with contextlib.suppress(ConnectionError, OSError):
            while sent < body_size:
                chunk = piece[: body_size - sent]
                writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk)
                await writer.drain()
                sent += len(chunk)
            if chunked:
                writer.write(b"0\r\n\r\n")
                await writer.drain()

    sender = asyncio.create_task(send_body())
    try:
        status_line = await asyncio.wait_for(reader.readline(), 30)
    except (ConnectionResetError, BrokenPipeError):
        # The server answered and closed while we were still sending: the kernel may reset the
        # connection and drop the answer before we read it, or our next write meets the closed
        # socket first and the broken pipe reaches the reader. The caller checks the server's log.
        return RESET
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
    return int(status_line.split()[1])
