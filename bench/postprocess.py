"""Post-processing (watermark + QC in one pass, C2PA, sidecar) of 12 s and 60 s 1280x720 clips, against
the fair re-encode floor.

The floor decodes the clip and encodes every frame again with the same encoder settings
(``adapters.media.encoding.add_h264``), frame types reset: a decoded frame still tagged
I/P/B would make x264 copy the source's frame structure instead of choosing its own,
which no pass that changes pixels can do, so that is not a floor. Figures are medians of
three runs (one at 60 s), floor and post-processing taking turns: wall time, process CPU
time (steadier on a shared machine) and the peak resident memory during the run. C2PA
signing alone (no re-encode) is timed separately.
"""

from __future__ import annotations

import functools
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
from av.video.frame import PictureType

from adapters.media.encoding import add_h264
from adapters.media.postprocess import MediaPostProcessor
from adapters.media.provenance import ProvenanceFacts, create_dev_certificates, sign_clip
from bot.domain import Brief, Render, RenderOptions, ReplyTarget, VideoRequest
from tests.fakes.media import write_test_mp4
from tests.support.specs import bottle_brief

LENGTHS, WIDTH, HEIGHT, RUNS = (12, 60), 1280, 720, 3


def fair_floor(source: Path, dest: Path) -> None:
    """Decode and encode every frame with the passes' encoder, frame types reset, no pixel touched."""
    with av.open(str(source)) as src, av.open(str(dest), "w", options={"movflags": "+faststart"}) as out:
        video = src.streams.video[0]
        video.thread_type = "AUTO"
        stream = add_h264(out, WIDTH, HEIGHT, video.average_rate or 24, video.time_base)
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


def bench_render(seconds: int, brief: Brief) -> Render:
    return Render(
        id=f"rnd_b{seconds}",
        request_id="req_1",
        brief_id=brief.id,
        brief_version=1,
        provider="bench",
        model="m",
        seconds=seconds,
        size=f"{WIDTH}x{HEIGHT}",
    )


async def run() -> list[str]:
    lines: list[str] = []
    request = VideoRequest(
        id="req_1",
        target=ReplyTarget("bench", "W", "C"),
        requester="U",
        raw_text="bench",
        options=RenderOptions(seconds=12),
    )
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        creds = create_dev_certificates(tmp / "keys")
        post = MediaPostProcessor(
            tmp / "out",
            cert_chain=creds.signer.cert_chain,
            private_key=creds.signer.private_key,
            keep_original=True,  # the same download is processed once per run
        )
        for seconds in LENGTHS:
            clip = write_test_mp4(tmp / f"clip{seconds}.mp4", seconds, WIDTH, HEIGHT, 24)
            brief = bottle_brief(seconds=seconds)
            render = bench_render(seconds, brief)
            floor, full = measure(
                functools.partial(fair_floor, clip, tmp / "floor.mp4"),
                functools.partial(post.process_now, render, brief, request, clip),
                runs=RUNS if seconds < 30 else 1,
            )
            lines += [
                f"post-processing a {seconds} s {WIDTH}x{HEIGHT} clip (watermark + QC in one pass, C2PA, "
                f"sidecar): {full.wall:.2f} s wall, {full.cpu:.2f} s CPU, peak RSS {full.peak_mib:.0f} MiB",
                f"    fair floor (decode + re-encode, frame types reset): {floor.wall:.2f} s wall, "
                f"{floor.cpu:.2f} s CPU, peak RSS {floor.peak_mib:.0f} MiB",
                f"    ratio to the floor: {full.wall / floor.wall:.2f}x wall, "
                f"{full.cpu / floor.cpu:.2f}x CPU (target ≤ 1.1x)",
            ]
        facts = ProvenanceFacts("rnd_b", "req_1", "bench", "m", "digest", 1, "U")
        clip12 = tmp / "clip12.mp4"
        [signing] = measure(functools.partial(sign_clip, clip12, tmp / "signed.mp4", facts, creds.signer))
        post.close()
    lines.append(f"    C2PA signing alone, 12 s clip (no re-encode): {signing.wall * 1000:.0f} ms")
    return lines
