"""Streaming a provider's finished clip from a URL to disk, and handing it images, for every adapter.

Output links of hosted providers (Runway, fal, Replicate, Luma) are pre-signed CDN
URLs: no API key goes with them. The body is written in chunks to ``dest.part`` in a
thread and renamed when whole, so a half-written file never looks finished and the
event loop never blocks on the disk.
"""

from __future__ import annotations

import asyncio
import base64
import mimetypes
import os
from pathlib import Path

import aiohttp

from adapters.providers import faults
from bot.errors import PermanentProviderError, TransientProviderError

VIDEO_TYPES = ("video/", "application/octet-stream", "binary/octet-stream")


async def stream_url_to_file(
    url: str,
    dest: Path,
    *,
    provider: str,
    label: str,
    read_timeout: float = 30.0,
    chunk_size: int = 1 << 20,
    headers: dict[str, str] | None = None,
) -> None:
    """GET ``url`` into ``dest`` in chunks.

    Raises:
        PermanentProviderError: the link is gone (403/404/410) or serves an image, not a video.
        TransientProviderError: another status, or the connection broke off.
    """
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Each read is bounded, not the whole transfer: a long clip keeps coming as long as bytes flow.
    bounds = aiohttp.ClientTimeout(total=None, sock_connect=read_timeout, sock_read=read_timeout)
    try:
        async with (
            aiohttp.ClientSession(timeout=bounds) as session,
            session.get(url, headers=headers) as response,
        ):
            if response.status in (403, 404, 410):
                gone = f"{label}'s output link answered {response.status} (expired or removed)"
                raise PermanentProviderError(gone, provider=provider)
            if response.status != 200:
                raise faults.status_error(
                    provider, "download", response.status, await response.text(), headers=response.headers
                )
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind and not kind.startswith(VIDEO_TYPES):
                raise PermanentProviderError(
                    f"{label} returned {kind or 'something'} instead of a video", provider=provider
                )
            handle = await asyncio.to_thread(part.open, "wb")
            try:
                async for chunk in response.content.iter_chunked(chunk_size):
                    await asyncio.to_thread(handle.write, chunk)
            finally:
                await asyncio.to_thread(handle.close)
    except (aiohttp.ClientError, TimeoutError) as exc:
        part.unlink(missing_ok=True)
        broke = f"downloading {label}'s output failed: {exc!r}"
        raise TransientProviderError(broke, provider=provider) from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    if part.stat().st_size == 0:
        part.unlink(missing_ok=True)
        raise PermanentProviderError(f"{label} returned an empty clip", provider=provider)
    os.replace(part, dest)


def data_uri(path: Path) -> str:
    """An image as a ``data:`` URI, which fal and Replicate accept wherever they take an image URL."""
    kind = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"
