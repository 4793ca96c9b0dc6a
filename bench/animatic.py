"""(b) Animatic encode speed: an 8 s 1280x720 clip, as a multiple of real time."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from adapters.providers.animatic import AnimaticProvider
from bot.domain import Brief
from bot.ports import RefineInput, RemoteState, RenderSpec
from bot.refiner import OfflineRefiner

SECONDS = 8


async def run() -> list[str]:
    brief = OfflineRefiner().refine_now(
        RefineInput(
            "req_bench", 1, "a product demo of our steel water bottle on a kitchen counter", SECONDS, "16:9"
        )
    )
    assert isinstance(brief, Brief)
    with tempfile.TemporaryDirectory() as folder:
        provider = AnimaticProvider(Path(folder) / "work")
        spec = RenderSpec("rnd_bench", brief, "animatic-v1", SECONDS, "1280x720", "16:9")
        start = time.perf_counter()
        job = await provider.submit(spec)
        while (await provider.status(job)).state != RemoteState.COMPLETED:
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - start
        await provider.download(job, Path(folder) / "out.mp4")
        size = (Path(folder) / "out.mp4").stat().st_size
    return [
        f"(b) animatic encode, {SECONDS} s 1280x720 24 fps: {elapsed:.2f} s wall = "
        f"{SECONDS / elapsed:.1f}x real time ({size / 1e6:.1f} MB)"
    ]
