"""The font stack draws Latin, Chinese, Japanese, Korean and emoji with real glyphs, never boxes."""

from __future__ import annotations

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from adapters.media.fonts import FontFace, FontStack, clusters, coverage, font_faces, load_fonts

CHINESE = "解释层流和湍流的区别"
MIXED = "Launch 🚀 解释层流 こんにちは 한국어"


def face(role: str) -> FontFace:
    return next(f for f in font_faces() if f.role == role)


def glyph_mask(font: ImageFont.FreeTypeFont, char: str) -> np.ndarray:
    size = int(font.size)
    image = Image.new("L", (size * 2, size * 2), 0)
    ImageDraw.Draw(image).text((size // 2, size // 2), char, fill=255, font=font)
    return np.asarray(image) > 127


def test_the_packaged_noto_fonts_cover_latin_cjk_and_emoji() -> None:
    roles = {f.role: f for f in font_faces()}

    assert {"latin", "cjk", "emoji"} <= set(roles)
    assert "site-packages" in str(roles["cjk"].path), "installed from PyPI with clipdesk, not the system"
    assert load_fonts(32).missing(f"{MIXED} Ünïcödé ½ → ✓ 🎉👍🏽") == ""
    assert load_fonts(32).missing("\ue000") == "\ue000", "a private-use character is reported, not hidden"


def test_each_glyph_is_the_fonts_own_and_not_its_notdef_box() -> None:
    stack = load_fonts(48)
    for char in CHINESE + "🚀🌊":
        (run,) = stack.runs(char)
        chosen = next(f for f in stack.faces if stack.font(f) is run.font)
        name = TTFont(str(chosen.path), fontNumber=chosen.index, lazy=True).getBestCmap()[ord(char)]
        assert name != ".notdef", char
        tofu = glyph_mask(run.font, "\ue000")  # no font maps the private-use area: its .notdef box
        assert (glyph_mask(run.font, char) != tofu).mean() > 0.01, char


def test_text_is_split_into_runs_by_which_font_has_it() -> None:
    runs = [(run.text, run.font.getname()[0]) for run in load_fonts(32).runs(MIXED)]

    assert runs == [
        ("Launch ", "Noto Sans"),
        ("🚀 ", "Noto Emoji"),
        ("解释层流 こんにちは 한국어", "Noto Sans CJK SC"),
    ]


def test_emoji_sequences_stay_whole_and_selectors_never_show() -> None:
    assert list(clusters("a👍🏽👨\u200d👩\u200d👧❤️🇫🇷")) == ["a", "👍🏽", "👨\u200d👩\u200d👧", "❤️", "🇫🇷"]
    (run,) = load_fonts(32).runs("❤️")
    assert run.font.getname()[0] == "Noto Emoji"
    assert 0xFE0F in coverage(face("emoji")) and 0xFE0F not in coverage(face("latin"))
    # a selector the chosen font lacks is dropped rather than drawn as a box
    assert [run.text for run in load_fonts(32).runs("A\ufe0fB")] == ["AB"]


@pytest.mark.parametrize(
    "text",
    [
        "解释层流和湍流的区别，这是一个很长的句子。我们看看它怎么换行",
        "A steel water bottle on a sunlit kitchen counter, beads of water on it",
        "Mixed 中文 and English words, with 🚀 emoji in between them",
        "Supercalifragilisticexpialidocious-and-then-some",
    ],
)
def test_wrapping_fits_the_width_and_keeps_every_character(text: str) -> None:
    stack = load_fonts(32)
    lines = stack.wrap(text, 260)

    assert len(lines) > 1
    assert all(stack.measure(line) <= 260 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert not any(line.startswith(("，", "。")) for line in lines), "no line opens with closing punctuation"


def test_render_and_draw_agree_and_measure_is_the_advance() -> None:
    stack = FontStack(40, 500)
    array = stack.render(CHINESE)
    image = Image.new("RGBA", (array.shape[1], array.shape[0]), (0, 0, 0, 0))
    advance = stack.draw(image, (0, 0), CHINESE)

    assert array.shape == (stack.ascent + stack.descent, array.shape[1], 4)
    assert np.array_equal(np.asarray(image), array)
    assert advance == pytest.approx(stack.measure(CHINESE))
    inked = np.nonzero(array[..., 3].max(axis=0))[0]
    assert inked[-1] <= advance + 2 and inked[0] <= 4


def test_the_weight_is_set_on_variable_fonts() -> None:
    light, bold = load_fonts(40, 300), load_fonts(40, 800)

    assert light.render(CHINESE)[..., 3].sum() < bold.render(CHINESE)[..., 3].sum()
