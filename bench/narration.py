"""Narration + mixing of a 30 s 1280x720 clip, as a ratio of the plain post-processing floor.

Two measurements. The production path: :class:`MediaPostProcessor` finishing a 30 s clip of
an explainer brief (three shots, their script spoken by eSpeak NG, the voice mixed under the
clip packet for packet, captions written, C2PA-signed with the voice lines as ingredients)
against the same post-processor on the same clip without a script (watermark + QC + C2PA),
and against the fair re-encode floor. Then the stitching pass below.

Narrated: three lines spoken by eSpeak NG (the keyless engine), one per ten seconds,
then the clip finished in one pass with the voice mixed under it (ducking its own
sound) and the watermark on. Floor: the fair re-encode of the same clip (decode +
encode, frame types reset). The same pass without narration shows what the voice costs.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
from dataclasses import replace
from pathlib import Path

from adapters.media.narration import ScriptLine, narrate
from adapters.media.postprocess import MediaPostProcessor
from adapters.media.provenance import create_dev_certificates
from adapters.media.speech import EspeakSynthesizer
from adapters.media.stitch import ShotClip, ShotSpan, StitchOptions, VoiceLine, stitch
from adapters.media.watermark import Watermark
from bench.media import fair_floor, measure
from bot.domain import Brief, Render, ReplyTarget, RequestOptions, Shot, VideoRequest
from bot.explainers import Explainer
from tests.media.clips import moving, write_clip

SECONDS, WIDTH, HEIGHT = 30, 1280, 720
SCRIPT = (
    ScriptLine(1, "Laminar flow moves in smooth layers that slide past each other."),
    ScriptLine(2, "Turbulent flow swirls, mixes and changes from moment to moment."),
    ScriptLine(3, "Which of the two comes out of your kitchen tap?"),
)
THIRDS = (ShotSpan(1, 0.0, 10.0), ShotSpan(2, 10.0, 20.0), ShotSpan(3, 20.0, 30.0))


def narrated(clip: Path, dest: Path, voices: Path) -> None:
    """Speak the script (a line per third of the clip) and finish the clip with it mixed in."""
    narration = asyncio.run(narrate(SCRIPT, THIRDS, EspeakSynthesizer(), voices))
    # the clip is one shot: each line is placed by its third's start within it
    lines = tuple(VoiceLine(1, v.path, v.offset + THIRDS[v.shot - 1].start) for v in narration.voices)
    stitch([ShotClip(clip, 1, float(SECONDS))], dest, StitchOptions(watermark=Watermark(), narration=lines))


def explainer_brief(seconds: int) -> Brief:
    shots = tuple(Shot(i, seconds / 3, f"Shot {i}", "static frame") for i in (1, 2, 3))
    explainer = Explainer(tuple(line.text for line in SCRIPT), ("laminar flow", "turbulent flow"), "goal")
    return Brief(
        "req_bench", 1, "p", "s", "set", "st", "li", "cam", "", seconds, "16:9", shots, explainer=explainer
    )


def finish(post: MediaPostProcessor, clip: Path, brief: Brief) -> None:
    render = Render("rnd_bench", "req_bench", brief.id, 1, "bench", "bench-1", SECONDS, f"{WIDTH}x{HEIGHT}")
    request = VideoRequest("req_bench", ReplyTarget("console", "w", "c"), "U1", "ask", RequestOptions())
    asyncio.run(post.process(render, brief, request, clip))


async def production(tmp: Path, clip: Path) -> list[str]:
    keys = create_dev_certificates(tmp / "keys")
    post = MediaPostProcessor(
        tmp / "out",
        cert_chain=keys.signer.cert_chain,
        private_key=keys.signer.private_key,
        keep_original=True,
        speech=EspeakSynthesizer(),
    )
    brief = explainer_brief(SECONDS)
    plain = functools.partial(finish, post, clip, replace(brief, explainer=None))
    voiced = functools.partial(finish, post, clip, brief)
    floor_work = functools.partial(fair_floor, clip, tmp / "floor.mp4")
    try:
        floor, without, explained = await asyncio.to_thread(measure, floor_work, plain, voiced, runs=3)
    finally:
        post.close()
    return [
        f"explainer post-processing of a {SECONDS} s {WIDTH}x{HEIGHT} clip (production path: watermark + QC, "
        f"eSpeak NG narration of 3 shots, mix, captions, C2PA): {explained.wall:.2f} s wall, "
        f"{explained.cpu:.2f} s CPU",
        f"    plain post-processing of the same clip (watermark + QC + C2PA): {without.wall:.2f} s wall "
        f"→ narration + mixing add {explained.wall - without.wall:.2f} s "
        f"({(explained.wall - without.wall) / without.wall:.0%} of plain post-processing)",
        f"    ratio to plain post-processing: {explained.wall / without.wall:.2f}x wall; "
        f"to the fair re-encode floor ({floor.wall:.2f} s): {explained.wall / floor.wall:.2f}x wall",
    ]


async def run() -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        picture = moving(WIDTH, HEIGHT)
        clip = await asyncio.to_thread(
            write_clip, tmp / "clip.mp4", picture, seconds=SECONDS, width=WIDTH, height=HEIGHT, audio=True
        )
        shots = [ShotClip(clip, 1, float(SECONDS))]
        plain = functools.partial(stitch, shots, tmp / "plain.mp4", StitchOptions(watermark=Watermark()))
        work = functools.partial(narrated, clip, tmp / "narrated.mp4", tmp / "voices")
        floor_work = functools.partial(fair_floor, clip, tmp / "floor.mp4")
        floor, without, voiced = await asyncio.to_thread(measure, floor_work, plain, work, runs=1)
        lines = await production(tmp, clip)
    return [
        *lines,
        f"narration + mixing of a {SECONDS} s {WIDTH}x{HEIGHT} clip (eSpeak NG, ducking, watermark, "
        f"one pass): {voiced.wall:.2f} s wall, {voiced.cpu:.2f} s CPU",
        f"    floor, plain post-processing (fair re-encode): {floor.wall:.2f} s wall "
        f"→ ratio {voiced.wall / floor.wall:.2f}x wall, {voiced.cpu / floor.cpu:.2f}x CPU",
        f"    the same pass without narration: {without.wall:.2f} s wall → the voice adds "
        f"{(voiced.cpu - without.cpu) / floor.cpu:.0%} of the floor's CPU",
    ]
