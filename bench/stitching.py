"""Stitching a cut of three 4 s 1280x720 shots (one pass: stitch + watermark + QC), against its floors.

The floor the issue names is a plain remux of the same shots: their packets copied one
after another into one MP4, nothing decoded. No stitch that grades colours, marks or
re-times frames can get near it (it does not encode), so the fair re-encode floor of a
clip of the cut's length (decode + encode, frame types reset) is printed too: that is
the least any pass that changes pixels can cost.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import av

from adapters.media.stitch import ShotClip, StitchOptions, stitch
from adapters.media.watermark import Watermark
from bench.media import fair_floor, measure
from tests.fakes.media import write_test_mp4

SHOTS, SECONDS, WIDTH, HEIGHT = 3, 4, 1280, 720


def remux(paths: list[Path], dest: Path) -> None:
    """The shots' packets one after another in one MP4, timestamps shifted: no decode, no encode."""
    with av.open(str(dest), "w", options={"movflags": "+faststart"}) as out:
        stream = None
        offset = 0
        for path in paths:
            with av.open(str(path)) as source:
                video = source.streams.video[0]
                if stream is None:
                    stream = out.add_stream_from_template(video)
                last = 0
                for packet in source.demux(video):
                    if packet.dts is None:
                        continue
                    packet.pts = (packet.pts or 0) + offset
                    packet.dts += offset
                    last = max(last, packet.pts + (packet.duration or 0))
                    packet.stream = stream
                    out.mux(packet)
                offset = last


async def run() -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        paths = [
            write_test_mp4(tmp / f"shot{i}.mp4", SECONDS, WIDTH, HEIGHT, 24) for i in range(1, SHOTS + 1)
        ]
        whole = write_test_mp4(tmp / "whole.mp4", SHOTS * SECONDS, WIDTH, HEIGHT, 24)
        shots = [ShotClip(path, i, float(SECONDS)) for i, path in enumerate(paths, start=1)]
        options = StitchOptions(watermark=Watermark())
        floor, fair, stitched = measure(
            functools.partial(remux, paths, tmp / "remux.mp4"),
            functools.partial(fair_floor, whole, tmp / "fair.mp4"),
            functools.partial(stitch, shots, tmp / "cut.mp4", options),
        )
    length = SHOTS * SECONDS
    return [
        f"stitching {SHOTS} x {SECONDS} s {WIDTH}x{HEIGHT} shots into a {length} s cut (stitch + grade + "
        f"watermark + QC, one pass): {stitched.wall:.2f} s wall, {stitched.cpu:.2f} s CPU",
        f"    floor, plain remux of the same shots: {floor.wall * 1000:.0f} ms "
        f"→ ratio {stitched.wall / floor.wall:.0f}x (a remux encodes nothing)",
        f"    fair re-encode floor of a {length} s clip: {fair.wall:.2f} s wall "
        f"→ ratio {stitched.wall / fair.wall:.2f}x wall, {stitched.cpu / fair.cpu:.2f}x CPU",
    ]
