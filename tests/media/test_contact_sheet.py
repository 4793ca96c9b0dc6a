"""The variants' contact sheet: one row per variant labelled #1…#N, frames at fixed fractions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from adapters.media.contact_sheet import BACKGROUND, LABEL_COLOUR, contact_sheet, label_font
from bot.errors import MediaError
from tests.media.clips import write_clip

COLOURS = ((220, 40, 40), (40, 200, 60), (50, 80, 230))


def ramp(colour: tuple[int, int, int], frames: int):  # type: ignore[no-untyped-def]
    """The variant's colour, brightening from 10 % to 100 % over the clip: a frame shows its time."""
    base = np.asarray(colour, np.float32)

    def picture(i: int) -> np.ndarray:
        level = 0.1 + 0.9 * i / (frames - 1)
        return np.broadcast_to(base * level, (180, 320, 3)).astype(np.uint8)

    return picture


def test_one_labelled_row_per_variant_with_frames_at_fixed_fractions(tmp_path: Path) -> None:
    clips = [write_clip(tmp_path / f"v{n}.mp4", ramp(c, 48), seconds=2) for n, c in enumerate(COLOURS, 1)]

    sheet = contact_sheet(clips, tmp_path / "sheet.png", fractions=(0.1, 0.5, 0.9), cell_width=160)

    image = np.asarray(Image.open(sheet.path).convert("RGB")).astype(np.int16)
    assert image.shape[:2] == (sheet.height, sheet.width)
    assert [row.label for row in sheet.rows] == ["#1", "#2", "#3"]
    for row, colour in zip(sheet.rows, COLOURS, strict=True):
        levels = []
        for left, top, right, bottom in row.cells:
            cell = image[top + 4 : bottom - 4, left + 4 : right - 4].reshape(-1, 3).mean(axis=0)
            hue = cell / cell.max()
            assert np.abs(hue - np.asarray(colour) / max(colour)).max() < 0.12  # this row's variant
            levels.append(cell.max() / max(colour))
        assert levels == sorted(levels)  # later fractions are later frames
        assert [round(t, 1) for t in row.times] == [0.2, 1.0, 1.8]
        assert levels[0] == pytest.approx(0.1 + 0.9 * 0.2 / 2 * 48 / 47, abs=0.08)
        assert levels[-1] == pytest.approx(0.1 + 0.9 * 1.8 / 2 * 48 / 47, abs=0.08)
        left, top, right, bottom = row.label_box
        drawn = image[top:bottom, left:right]
        assert np.abs(expected_label(row.label, drawn.shape[1], drawn.shape[0]) - drawn).mean() < 2.0


def expected_label(label: str, width: int, height: int) -> np.ndarray:
    """The label as the sheet's font draws it on its own, placed as the sheet places it."""
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = label_font(max(12, height // 3))
    left, top, _, bottom = draw.textbbox((0, 0), label, font=font)
    draw.text((8 - left, (height - (bottom - top)) // 2 - top), label, font=font, fill=LABEL_COLOUR)
    rendered = np.asarray(image).astype(np.int16)
    assert (rendered != np.asarray(BACKGROUND)).any(axis=-1).mean() > 0.02  # there is ink to compare
    return rendered


def test_the_labels_differ_from_row_to_row(tmp_path: Path) -> None:
    clips = [write_clip(tmp_path / f"v{n}.mp4", ramp(c, 24), seconds=1) for n, c in enumerate(COLOURS, 1)]
    sheet = contact_sheet(clips, tmp_path / "sheet.png")
    image = np.asarray(Image.open(sheet.path).convert("L")).astype(np.int16)
    labels = [image[r.label_box[1] : r.label_box[3], r.label_box[0] : r.label_box[2]] for r in sheet.rows]
    assert np.abs(labels[0] - labels[1]).mean() > 1 and np.abs(labels[1] - labels[2]).mean() > 1


def test_bad_input_is_refused_clearly(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    with pytest.raises(MediaError, match="at least one variant"):
        contact_sheet([], tmp_path / "s.png")
    with pytest.raises(MediaError, match=r"cannot take frames from junk\.mp4"):
        contact_sheet([junk], tmp_path / "s.png")
