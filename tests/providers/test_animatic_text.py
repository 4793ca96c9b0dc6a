"""A Chinese ask and emoji come out of the animatic as legible glyphs, not tofu boxes.

Each line of text in a decoded frame is compared with the font's own rendering of the same
string (Pillow with that font file alone, not clipdesk's font stack), and with the boxes the
old built-in font drew for it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from adapters.media.fonts import FontFace, font_faces
from adapters.providers.animatic import AnimaticProvider, job_from_spec
from adapters.providers.animatic_cards import INK, PAPER, TextLine, TimecodeBar
from adapters.providers.animatic_plan import plan_shots
from adapters.providers.animatic_render import shot_cards
from tests.providers.animatic_support import decoded_frames, make_brief, make_spec, ncc, wait_done

CHINESE = "解释层流和湍流的区别"
EMOJI = "🚀🌊🎉🧪"


def reference(line: TextLine, font: ImageFont.FreeTypeFont, box: tuple[int, int, int, int]) -> np.ndarray:
    """``line`` drawn by ``font`` alone where the animatic put it, as grey pixels of ``box``."""
    x0, y0, x1, y1 = box
    image = Image.new("RGB", (x1 - x0, y1 - y0), INK)
    origin = (line.origin[0] - x0, line.baseline - y0)
    ImageDraw.Draw(image).text(origin, line.text, fill=PAPER, font=font, anchor="ls")
    return np.asarray(image.convert("L"), np.float64)


def own_font(face: FontFace, line: TextLine) -> ImageFont.FreeTypeFont:
    font = ImageFont.truetype(str(face.path), line.size, index=face.index)
    font.set_variation_by_axes([line.weight])
    return font


def assert_legible(frame: np.ndarray, line: TextLine, face: FontFace) -> None:
    cmap = TTFont(str(face.path), fontNumber=face.index, lazy=True).getBestCmap()
    assert all(cmap.get(ord(c), ".notdef") != ".notdef" for c in line.text if not c.isspace())

    font = own_font(face, line)
    width = round(font.getlength(line.text))
    box = (line.origin[0] - 6, line.origin[1], line.origin[0] + width + 6, line.baseline + line.size // 3)
    seen = np.asarray(Image.fromarray(frame).convert("L"), np.float64)[box[1] : box[3], box[0] : box[2]]
    builtin = ImageFont.load_default(line.size)
    assert isinstance(builtin, ImageFont.FreeTypeFont)
    boxes = reference(line, builtin, box)  # what the old animatic drew
    notdef = reference(replace(line, text="\ue000" * len(line.text)), font, box)  # the font's own boxes

    assert ncc(seen, reference(line, font, box)) > 0.9, f"{line.text!r} is drawn as its font draws it"
    assert ncc(seen, boxes) < 0.5 and ncc(seen, notdef) < 0.5, f"{line.text!r} is not tofu"


@pytest.fixture
def provider(tmp_path: Path) -> AnimaticProvider:
    return AnimaticProvider(tmp_path / "animatic")


async def test_a_chinese_ask_and_emoji_render_as_real_glyphs(
    provider: AnimaticProvider, tmp_path: Path
) -> None:
    brief = make_brief([(CHINESE, "slow pan"), (EMOJI, "static")], seconds=8, subject=CHINESE, setting="")
    spec = make_spec("1280x720", "16:9", 8, brief=brief)
    try:
        job_id = await provider.submit(spec)
        assert (await wait_done(provider, job_id))[-1].state.value == "completed"
        await provider.download(job_id, tmp_path / "clip.mp4")
    finally:
        provider.close()
    frames = decoded_frames(tmp_path / "clip.mp4", picks=(10, 60, 150))
    job = job_from_spec(spec, 24)
    first, second = plan_shots(job)
    faces = {f.role: f for f in font_faces()}
    bottom = TimecodeBar(job, []).top

    shot1, title = shot_cards(job, first, bottom)
    assert title is not None and title.lines[0].text == CHINESE
    assert_legible(frames[10], title.lines[0], faces["cjk"])  # the title card, over shot 1's start
    (caption,) = [c for c in shot1 if c.lines[0].text == CHINESE]
    assert_legible(frames[60], caption.lines[0], faces["cjk"])  # shot 1's text, after the title
    shot2, _ = shot_cards(job, second, bottom)
    (caption,) = [c for c in shot2 if c.lines[0].text == EMOJI]
    assert_legible(frames[150], caption.lines[0], faces["emoji"])
