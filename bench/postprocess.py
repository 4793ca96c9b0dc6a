"""Post-processing (watermark + QC in one pass, C2PA, sidecar) of 12 s and 60 s 1280x720 clips, against
the fair re-encode floor.

The floor decodes the clip and encodes every frame again with the same encoder settings
(``adapters.media.encoding.add_h264``), frame types reset: a decoded frame still tagged
I/P/B would make x264 copy the source's frame structure instead of choosing its own,
which no pass that changes pixels can do, so that is not a floor. Figures are medians of
three runs (one at 60 s), floor and post-processing taking turns: wall time, process CPU
time (steadier on a shared machine) and the peak resident memory during the run, with the
load average when the runs ended (figures taken at a load above the core count are noisy).
C2PA signing alone (no re-encode) is timed separately.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

from adapters.media.postprocess import MediaPostProcessor
from adapters.media.provenance import ProvenanceFacts, create_dev_certificates, sign_clip
from bench.media import fair_floor, measure
from bot.domain import Brief, Render, ReplyTarget, RequestOptions, VideoRequest
from tests.fakes.media import write_test_mp4
from tests.support.specs import bottle_brief

LENGTHS, WIDTH, HEIGHT, RUNS = (12, 60), 1280, 720, 3


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
        options=RequestOptions(seconds=12),
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
            load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
            lines += [
                f"post-processing a {seconds} s {WIDTH}x{HEIGHT} clip (watermark + QC in one pass, C2PA, "
                f"sidecar): {full.wall:.2f} s wall, {full.cpu:.2f} s CPU, peak RSS {full.peak_mib:.0f} MiB",
                f"    fair floor (decode + re-encode, frame types reset): {floor.wall:.2f} s wall, "
                f"{floor.cpu:.2f} s CPU, peak RSS {floor.peak_mib:.0f} MiB",
                f"    ratio to the floor: {full.wall / floor.wall:.2f}x wall, "
                f"{full.cpu / floor.cpu:.2f}x CPU (target ≤ 1.1x)",
                f"    load average {load} on {os.cpu_count()} cores",
            ]
        facts = ProvenanceFacts("rnd_b", "req_1", "bench", "m", "digest", 1, "U")
        clip12 = tmp / "clip12.mp4"
        [signing] = measure(functools.partial(sign_clip, clip12, tmp / "signed.mp4", facts, creds.signer))
        post.close()
    lines.append(f"    C2PA signing alone, 12 s clip (no re-encode): {signing.wall * 1000:.0f} ms")
    return lines
