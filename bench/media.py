"""Shared by the media benchmarks: the fair re-encode floor, and timing that shares a busy machine fairly."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
from av.video.frame import PictureType

from adapters.media.encoding import add_h264

RUNS = 3


def fair_floor(source: Path, dest: Path) -> None:
    """Decode and encode every frame with the passes' encoder, frame types reset, no pixel touched."""
    with av.open(str(source)) as src, av.open(str(dest), "w", options={"movflags": "+faststart"}) as out:
        video = src.streams.video[0]
        video.thread_type = "AUTO"
        width, height = video.codec_context.width, video.codec_context.height
        stream = add_h264(out, width, height, video.average_rate or 24, video.time_base)
        for frame in src.decode(video):
            frame.pict_type = PictureType.NONE
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


@dataclass(frozen=True)
class Cost:
    wall: float
    cpu: float
    peak_mib: float


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class _Sampled:
    """Wall and CPU time of each run of one piece of work, and the highest RSS seen while it ran."""

    def __init__(self) -> None:
        self.walls: list[float] = []
        self.cpus: list[float] = []
        self.peak = 0.0

    def run(self, work: Callable[[], object]) -> None:
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                self.peak = max(self.peak, _rss_mib())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start, cpu = time.perf_counter(), time.process_time()
        try:
            work()
        finally:
            self.walls.append(time.perf_counter() - start)
            self.cpus.append(time.process_time() - cpu)
            done.set()
            sampler.join()

    def cost(self) -> Cost:
        return Cost(statistics.median(self.walls), statistics.median(self.cpus), self.peak)


def measure(*works: Callable[[], object], runs: int = RUNS) -> list[Cost]:
    """Run the works in turn, ``runs`` rounds, so a busy neighbour slows each of them alike."""
    sampled = [_Sampled() for _ in works]
    for _ in range(runs):
        for sample, work in zip(sampled, works, strict=True):
            sample.run(work)
    return [sample.cost() for sample in sampled]
