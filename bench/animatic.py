"""(b) Animatic encode speed: an 8 s 1280x720 clip, as a multiple of real time and of its floor.

The floor encodes the same frames, drawn beforehand and held in memory, with the same encoder
settings: what the clip would cost if drawing were free. Medians of three runs; CPU seconds are
the whole process's (all threads), which says more than wall time on a shared machine.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import av

from adapters.providers.animatic import AnimaticProvider
from adapters.providers.animatic_render import draw_frames, open_output
from adapters.providers.animatic_spec import job_from_spec
from bot.domain import Brief
from bot.ports import RefineInput, RemoteState, RenderSpec
from bot.refiner import OfflineRefiner
from tests.support.waiting import wait_for

SECONDS = 8
RUNS = 3


def _spec() -> RenderSpec:
    ask = "a product demo of our steel water bottle on a kitchen counter"
    brief = OfflineRefiner().refine_now(RefineInput("req_bench", 1, ask, SECONDS, "16:9"))
    assert isinstance(brief, Brief)
    return RenderSpec("rnd_bench", brief, "animatic-v1", SECONDS, "1280x720", "16:9")


async def _render(spec: RenderSpec, folder: Path) -> tuple[float, float]:
    """Wall and CPU seconds from submit to a completed job, through the provider."""
    provider = AnimaticProvider(folder)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        job = await provider.submit(spec)

        async def done() -> bool:
            return (await provider.status(job)).state == RemoteState.COMPLETED

        await wait_for(done, seconds=300)
        return time.perf_counter() - start, time.process_time() - cpu
    finally:
        provider.close()


def _floor(spec: RenderSpec, dest: Path) -> tuple[float, float, float]:
    """Drawing alone, then encoding the pre-drawn frames alone (wall, CPU, drawing wall)."""
    job = job_from_spec(spec, 24)
    start = time.perf_counter()
    frames = [av.VideoFrame.from_ndarray(a, format="yuv420p") for a in draw_frames(job)]
    drawing = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    with open_output(job, dest) as (out, stream):
        for index, frame in enumerate([*frames, None]):
            if frame is not None:
                frame.pts = index
            for packet in stream.encode(frame):
                out.mux(packet)
    return time.perf_counter() - start, time.process_time() - cpu, drawing


async def run() -> list[str]:
    spec = _spec()
    renders, floors = [], []
    with tempfile.TemporaryDirectory() as folder:
        for i in range(RUNS):
            renders.append(await _render(spec, Path(folder) / f"work{i}"))
            floors.append(await asyncio.to_thread(_floor, spec, Path(folder) / f"floor{i}.mp4"))
        size = (Path(folder) / "floor0.mp4").stat().st_size
    wall = statistics.median(r[0] for r in renders)
    cpu = statistics.median(r[1] for r in renders)
    floor_wall = statistics.median(f[0] for f in floors)
    floor_cpu = statistics.median(f[1] for f in floors)
    drawing = statistics.median(f[2] for f in floors)
    return [
        f"(b) animatic, {SECONDS} s 1280x720 24 fps, {len(spec.brief.shots)} shots (median of {RUNS}): "
        f"{wall:.2f} s wall = {SECONDS / wall:.1f}x real time, {cpu:.2f} s CPU ({size / 1e6:.1f} MB)",
        f"    floor, encoding the same pre-drawn frames: {floor_wall:.2f} s wall = "
        f"{SECONDS / floor_wall:.1f}x real time, {floor_cpu:.2f} s CPU; animatic = {wall / floor_wall:.2f}x "
        f"the floor; drawing alone {drawing:.2f} s",
    ]
