"""A 60 s six-shot cut end to end: shots in parallel against one at a time; stitching against a remux.

The whole app runs in this process (SQLite, the worker, the real post-processor) behind the
console thread; the provider is instant (every job is finished at its first status call) and
hands back a real 10 s 1280x720 clip per shot, so what is measured is clipdesk's own path:
claim, submit, poll, download, stitch (grade, watermark, QC) and sign. The same cut is run
with the per-provider limit at 6 (shots at once) and at 1 (one at a time), and again with a
provider that takes 2 s per job, where parallel shots matter most. Then the stitch of the
six shot files is timed against a plain remux of the same files (the floor: nothing encoded).
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
import time
from pathlib import Path

from rich.console import Console

from adapters.console.chat import ConsoleChat
from adapters.console.session import ConsoleSession, local_actor
from adapters.media.stitch import ShotClip, StitchOptions, stitch
from adapters.media.watermark import Watermark
from adapters.runtime.container import build_app
from bench.media import measure
from bench.stitching import remux
from bot.domain import RequestOptions, RequestStatus
from tests.support.harness import test_settings
from tests.support.providers import FileJobProvider

ASK = "a 60 second launch film for a steel water bottle"


async def _cut_seconds(folder: Path, *, per_provider: int, job_seconds: float) -> tuple[float, list[Path]]:
    """Wall time from the ask to the cut in review, and the shot files it stitched."""
    settings = test_settings(folder, f"sqlite:///{folder / 'bench.db'}", provider="filejob")
    settings.provider_concurrency = per_provider
    settings.worker_concurrency = 8
    provider = FileJobProvider(
        folder.parent / "jobs", job_seconds=job_seconds, clip_seconds=10.0, clip_size="1280x720"
    )
    chat = ConsoleChat(Console(quiet=True))
    app = await build_app(settings, chat_ports=[chat], providers={"filejob": provider})
    try:
        session = ConsoleSession(app, chat, local_actor())
        started = time.perf_counter()
        request = await session.ask(ASK, RequestOptions(shots=6))
        assert request is not None
        done = await session.settle(request.id)
        wall = time.perf_counter() - started
        assert done.status == RequestStatus.IN_REVIEW, done.failure_reason
        cut = await app.store.cuts.latest_cut(request.id)
        assert cut is not None and len(cut.shots) == 6
        shots = [await app.store.renders.get_render(s.render_id) for s in cut.shots]
        return wall, [Path(s.clip_path) for s in shots if s is not None and s.clip_path]
    finally:
        await app.close()


async def run() -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as root:
        base = Path(root)
        await _cut_seconds(base / "warm", per_provider=6, job_seconds=0.0)  # encodes the shot template once
        for job_seconds, label in ((0.0, "instant provider"), (2.0, "provider taking 2 s per job")):
            parallel, shots = await _cut_seconds(
                base / f"p{job_seconds}", per_provider=6, job_seconds=job_seconds
            )
            serial, _ = await _cut_seconds(base / f"s{job_seconds}", per_provider=1, job_seconds=job_seconds)
            lines.append(
                f"60 s six-shot cut, {label}: shots in parallel {parallel:.2f} s, "
                f"one at a time {serial:.2f} s → ratio {serial / parallel:.2f}x"
            )
        clips = [ShotClip(path, i, 10.0) for i, path in enumerate(shots, start=1)]
        options = StitchOptions(watermark=Watermark())
        floor, stitched = await asyncio.to_thread(
            measure,
            functools.partial(remux, shots, base / "remux.mp4"),
            functools.partial(stitch, clips, base / "cut.mp4", options),
        )
        lines.append(
            "stitching the six 10 s 1280x720 shots (grade + watermark + QC, one pass): "
            f"{stitched.wall:.2f} s wall, {stitched.cpu:.2f} s CPU; plain remux of the same shots "
            f"(the floor): {floor.wall * 1000:.0f} ms → ratio {stitched.wall / floor.wall:.0f}x"
        )
    return lines
