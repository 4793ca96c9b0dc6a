"""Narration + mixing of a 30 s 1280x720 clip, as a ratio of the plain post-processing floor.

Narrated: three lines spoken by eSpeak NG (the keyless engine), one per ten seconds,
then the clip finished in one pass with the voice mixed under it (ducking its own
sound) and the watermark on. Floor: the fair re-encode of the same clip (decode +
encode, frame types reset). The same pass without narration shows what the voice costs.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
from pathlib import Path

from adapters.media.narration import ScriptLine, narrate
from adapters.media.speech import EspeakSynthesizer
from adapters.media.stitch import ShotClip, ShotSpan, StitchOptions, VoiceLine, stitch
from adapters.media.watermark import Watermark
from bench.media import fair_floor, measure
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
    return [
        f"narration + mixing of a {SECONDS} s {WIDTH}x{HEIGHT} clip (eSpeak NG, ducking, watermark, "
        f"one pass): {voiced.wall:.2f} s wall, {voiced.cpu:.2f} s CPU",
        f"    floor, plain post-processing (fair re-encode): {floor.wall:.2f} s wall "
        f"→ ratio {voiced.wall / floor.wall:.2f}x wall, {voiced.cpu / floor.cpu:.2f}x CPU",
        f"    the same pass without narration: {without.wall:.2f} s wall → the voice adds "
        f"{(voiced.cpu - without.cpu) / floor.cpu:.0%} of the floor's CPU",
    ]
