"""A contact sheet of variants: one image, one row per variant labelled #1…#N, frames at fixed
fractions of each clip, so a reviewer compares takes at a glance before picking one.

Each clip is decoded once, front to back, keeping only the frames nearest the wanted
times (seeking would decode from the previous key frame again for every fraction,
which for the usual one-key-frame provider clip costs more than one pass).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont

from adapters.media.encoding import reason_of
from bot.errors import MediaError

FRACTIONS = (0.1, 0.3, 0.5, 0.7, 0.9)
BACKGROUND = (24, 24, 28)
LABEL_COLOUR = (255, 255, 255)

Box = tuple[int, int, int, int]  # left, top, right, bottom (right and bottom exclusive)


@dataclass(frozen=True)
class SheetRow:
    variant: int
    label: str
    label_box: Box
    cells: tuple[Box, ...]
    times: tuple[float, ...]  # seconds into the clip of each cell's frame


@dataclass(frozen=True)
class ContactSheet:
    path: Path
    width: int
    height: int
    rows: tuple[SheetRow, ...]


def label_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The font the labels are drawn with (Pillow's bundled one: no system font needed)."""
    return ImageFont.load_default(size=size)


def contact_sheet(
    variants: Sequence[Path],
    dest: Path,
    *,
    fractions: Sequence[float] = FRACTIONS,
    cell_width: int = 256,
    gap: int = 8,
) -> ContactSheet:
    """Write a PNG or JPEG (by ``dest``'s suffix) with one labelled row per variant.

    Raises:
        MediaError: no variants, a fraction outside 0..1, or a clip that does not decode.
    """
    if not variants:
        raise MediaError("a contact sheet needs at least one variant")
    if not all(0.0 <= f <= 1.0 for f in fractions) or not fractions:
        raise MediaError("contact sheet frames are taken at fractions between 0 and 1")
    strips = [_frames_at(path, fractions) for path in variants]
    aspect = strips[0][0][1].height / strips[0][0][1].width
    cell_height = max(2, round(cell_width * aspect))
    font_size = max(12, cell_height // 3)
    font = label_font(font_size)
    label_width = int(font.getlength(f"#{len(variants)}")) + 2 * gap
    width = label_width + len(fractions) * (cell_width + gap) + gap
    height = len(variants) * (cell_height + gap) + gap
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    rows = []
    for number, strip in enumerate(strips, start=1):
        top = gap + (number - 1) * (cell_height + gap)
        label = f"#{number}"
        left, text_top, _, bottom = draw.textbbox((0, 0), label, font=font)
        origin = (gap - left, top + (cell_height - (bottom - text_top)) // 2 - text_top)
        draw.text(origin, label, font=font, fill=LABEL_COLOUR)
        label_box = (0, top, label_width, top + cell_height)
        cells = []
        for column, (_, picture) in enumerate(strip):
            x = label_width + column * (cell_width + gap)
            sheet.paste(picture.resize((cell_width, cell_height), Image.Resampling.BILINEAR), (x, top))
            cells.append((x, top, x + cell_width, top + cell_height))
        rows.append(SheetRow(number, label, label_box, tuple(cells), tuple(t for t, _ in strip)))
    dest.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(dest)
    return ContactSheet(dest, width, height, tuple(rows))


def _frames_at(path: Path, fractions: Sequence[float]) -> list[tuple[float, Image.Image]]:
    """The frame nearest each fraction of the clip's length, in one decode."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            duration = _duration(container, stream)
            wanted = [f * duration for f in fractions]
            best: list[tuple[float, float, av.VideoFrame] | None] = [None] * len(wanted)
            for frame in container.decode(stream):
                at = float(frame.time or 0.0)
                for i, target in enumerate(wanted):
                    current = best[i]
                    if current is None or abs(at - target) < current[0]:
                        best[i] = (abs(at - target), at, frame)
    except (av.FFmpegError, OSError, IndexError) as exc:
        reason = "has no video stream" if isinstance(exc, IndexError) else reason_of(exc)
        raise MediaError(f"cannot take frames from {path.name}: {reason}") from exc
    if any(b is None for b in best):
        raise MediaError(f"cannot take frames from {path.name}: no frame decodes")
    return [(b[1], Image.fromarray(b[2].to_ndarray(format="rgb24"))) for b in best if b is not None]


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    rate = float(stream.average_rate or 24)
    return (stream.frames or 1) / rate
