"""Post-processing of a 12 s 1280x720 clip (QC + watermark + C2PA + sidecar), against its floor.

The floor is a plain PyAV decode and re-encode of the same clip with the same
encoder settings: the least any burned-in watermark can cost. C2PA signing
alone (no re-encode) is timed separately.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av

from adapters.media.postprocess import MediaPostProcessor
from adapters.media.provenance import ProvenanceFacts, create_dev_certificates, sign_clip
from bot.domain import Render, ReplyTarget, RequestOptions, VideoRequest
from tests.fakes.media import write_test_mp4
from tests.support.specs import bottle_brief

SECONDS, WIDTH, HEIGHT, RUNS = 12, 1280, 720, 3


def plain_transcode(source: Path, dest: Path) -> None:
    """Decode and encode with the watermark's own encoder settings, touching no pixel."""
    with av.open(str(source)) as src, av.open(str(dest), "w", options={"movflags": "+faststart"}) as out:
        video = src.streams.video[0]
        video.thread_type = "AUTO"
        stream = out.add_stream("libx264", rate=video.average_rate or 24)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "19"}
        stream.codec_context.time_base = video.time_base or Fraction(1, 90000)
        stream.codec_context.thread_type = "FRAME"
        for frame in src.decode(video):
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def median_time(work, runs: int = RUNS) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def run() -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        clip = write_test_mp4(tmp / "clip.mp4", SECONDS, WIDTH, HEIGHT, 24)
        creds = create_dev_certificates(tmp / "keys")
        post = MediaPostProcessor(
            tmp / "out", cert_chain=creds.signer.cert_chain, private_key=creds.signer.private_key
        )
        request = VideoRequest(
            id="req_1",
            target=ReplyTarget("bench", "W", "C"),
            requester="U",
            raw_text="bench",
            options=RequestOptions(seconds=SECONDS),
        )
        brief = bottle_brief(seconds=SECONDS)
        render = Render(
            id="rnd_b",
            request_id="req_1",
            brief_id=brief.id,
            brief_version=1,
            provider="bench",
            model="m",
            seconds=SECONDS,
            size=f"{WIDTH}x{HEIGHT}",
        )
        floor = median_time(lambda: plain_transcode(clip, tmp / "plain.mp4"))
        full = median_time(lambda: post.process_now(render, brief, request, clip))
        facts = ProvenanceFacts("rnd_b", "req_1", "bench", "m", brief.digest, 1, "U")
        signing = median_time(lambda: sign_clip(clip, tmp / "signed.mp4", facts, creds.signer), runs=5)
        post.close()
    return [
        f"post-processing a {SECONDS} s {WIDTH}x{HEIGHT} clip (QC + watermark + C2PA + sidecar): "
        f"{full:.2f} s",
        f"    floor, plain PyAV decode + encode of the same clip: {floor:.2f} s → ratio {full / floor:.2f}x",
        f"    C2PA signing alone (no re-encode): {signing * 1000:.0f} ms",
    ]
