"""Captions burned into the picture: each cue drawn once with the Noto font stack (Latin, CJK,
emoji) as white lines on a dark band, centred above the bottom edge, and blended into the
YUV planes of every frame it covers, the way the watermark is.

The single-clip narration pass (:mod:`adapters.media.narrated`) and the stitching pass of a
cut (:mod:`adapters.media.stitch`) share it, so a cue looks the same in both.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from adapters.media.captions import Cue
from adapters.media.fonts import load_fonts
from adapters.media.watermark import YuvMark

BAND = (0, 0, 0, 170)  # behind the text: legible on any picture
TEXT_SHARE = 0.052  # text height as a share of the picture's height
WEIGHT = 600


def caption_image(text: str, width: int, height: int) -> tuple[Image.Image, list[tuple[str, int, int]]]:
    """A cue as the viewer sees it, and where each of its lines went (text, left, top) in the band."""
    fonts = load_fonts(max(14, round(height * TEXT_SHARE)), WEIGHT)
    lines = [part for row in text.split("\n") for part in fonts.wrap(row, width * 0.86)]
    pad = fonts.size // 2
    band_w = min(width, round(max(fonts.measure(line) for line in lines)) + 2 * pad)
    band_h = fonts.line_height * len(lines) + pad
    image = Image.new("RGBA", (band_w, band_h), BAND)
    placed = []
    for i, line in enumerate(lines):
        x = round((band_w - fonts.measure(line)) / 2)
        y = pad // 2 + i * fonts.line_height
        fonts.draw(image, (x, y), line)
        placed.append((line, x, y))
    return image, placed


def caption_position(band: Image.Image, width: int, height: int) -> tuple[int, int]:
    """Where a band goes: centred, above the bottom edge and the watermark's row (even-aligned)."""
    left = max(0, (width - band.width) // 2)
    top = max(0, height - band.height - round(height * 0.09))
    return left - left % 2, top - top % 2


class CaptionBurner:
    """Blends the cue showing at a time into yuv420p frames; each cue is drawn once, when first shown."""

    def __init__(self, cues: Sequence[Cue], width: int, height: int) -> None:
        self.cues, self.width, self.height = tuple(cues), width, height
        self._overlays: dict[int, YuvMark] = {}

    def blend(self, planes: np.ndarray, at: float) -> None:
        """Draw the cue showing at ``at`` seconds (if any) into ``planes``, in place."""
        shown = next((i for i, cue in enumerate(self.cues) if cue.start <= at < cue.end), None)
        if shown is None:
            return
        if shown not in self._overlays:
            band, _ = caption_image(self.cues[shown].text, self.width, self.height)
            overlay = YuvMark(band, self.width, self.height, "bottom-left", self.height >= 720)
            overlay.left, overlay.top = caption_position(band, self.width, self.height)
            self._overlays[shown] = overlay
        self._overlays[shown].blend(planes, self.width, self.height)
