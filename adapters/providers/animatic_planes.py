"""Pictures as YUV 4:2:0 planes, so the animatic draws straight into what x264 encodes.

Everything static in a shot (its world, its cards, the sprite) is drawn once in RGB with
Pillow and converted once here; per frame, the renderer only copies rectangles between planes,
scales the world for a zoom, and blends a sprite. That removes the per-frame RGB→YUV
conversion (measured: as costly as all of Pillow's drawing) from the hot path.

Colours follow BT.601 limited range, what libswscale writes for untagged H.264 and what
decoders assume for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

# Pillow's YCbCr is BT.601 full range (JPEG); these tables squeeze it into limited range.
_LUMA = [16 + round(v * 219 / 255) for v in range(256)]
_CHROMA = [128 + round((v - 128) * 224 / 255) for v in range(256)]


@dataclass
class Planes:
    """One picture as Y (full size) and U, V (half width, half height) planes."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        return (self.y.shape[1], self.y.shape[0])

    @classmethod
    def from_image(cls, image: Image.Image) -> Planes:
        """Convert an RGB picture with even sides (one C pass each: colour, range, subsampling)."""
        if image.width % 2 or image.height % 2:
            raise ValueError(f"4:2:0 needs even sides, got {image.size}")
        y, u, v = image.convert("RGB").convert("YCbCr").split()
        return cls(
            np.asarray(y.point(_LUMA)),
            np.asarray(u.point(_CHROMA).reduce(2)),
            np.asarray(v.point(_CHROMA).reduce(2)),
        )

    def images(self) -> tuple[Image.Image, Image.Image, Image.Image]:
        """The planes as Pillow "L" images, for scaling with Pillow's resampler."""
        return (Image.fromarray(self.y), Image.fromarray(self.u), Image.fromarray(self.v))


@dataclass
class Patch:
    """An opaque rectangle of planes to copy onto frames at ``at`` (even coordinates)."""

    at: tuple[int, int]
    planes: Planes

    @classmethod
    def from_image(cls, image: Image.Image, at: tuple[int, int]) -> Patch:
        return cls((at[0] & ~1, at[1] & ~1), Planes.from_image(image))


@dataclass
class Sprite:
    """A picture with an alpha channel, blended onto frames (the subject, for parallax moves)."""

    planes: Planes
    alpha: np.ndarray  # full size, uint16 0..255
    alpha_half: np.ndarray  # chroma size

    @classmethod
    def from_image(cls, image: Image.Image) -> Sprite:
        rgba = image.convert("RGBA")
        even = rgba.crop((0, 0, rgba.width + rgba.width % 2, rgba.height + rgba.height % 2))
        alpha = even.getchannel("A")
        return cls(
            Planes.from_image(even.convert("RGB")),
            np.asarray(alpha, np.uint16),
            np.asarray(alpha.reduce(2), np.uint16),
        )


class FrameBuffer:
    """One yuv420p frame as a single array (what ``av.VideoFrame.from_ndarray`` takes) with plane views."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.data = np.zeros((height * 3 // 2, width), np.uint8)
        chroma = self.data[height:].reshape(2, height // 2, width // 2)
        self.planes = Planes(self.data[:height], chroma[0], chroma[1])

    def show(self, world: Planes, left: int, top: int) -> None:
        """Copy the frame-sized window of ``world`` whose top-left is (``left``, ``top``)."""
        p, w, h = self.planes, self.width, self.height
        p.y[:] = world.y[top : top + h, left : left + w]
        p.u[:] = world.u[top // 2 : top // 2 + h // 2, left // 2 : left // 2 + w // 2]
        p.v[:] = world.v[top // 2 : top // 2 + h // 2, left // 2 : left // 2 + w // 2]

    def show_scaled(self, world: tuple[Image.Image, ...], box: tuple[float, float, float, float]) -> None:
        """Scale the ``box`` of ``world`` (Pillow planes) to the frame: the zoom of a push or pull."""
        half = (box[0] / 2, box[1] / 2, box[2] / 2, box[3] / 2)
        p, w, h = self.planes, self.width, self.height
        p.y[:] = np.asarray(world[0].resize((w, h), Image.Resampling.NEAREST, box=box))
        p.u[:] = np.asarray(world[1].resize((w // 2, h // 2), Image.Resampling.NEAREST, box=half))
        p.v[:] = np.asarray(world[2].resize((w // 2, h // 2), Image.Resampling.NEAREST, box=half))

    def paste(self, patch: Patch, at: tuple[int, int] | None = None) -> None:
        """Copy an opaque patch (clipped to the frame), at its own place or at ``at`` (even)."""
        x, y = patch.at if at is None else at
        src = patch.planes
        pw, ph = src.size
        w, h = min(pw, self.width - x), min(ph, self.height - y)
        if w <= 0 or h <= 0:
            return
        p = self.planes
        p.y[y : y + h, x : x + w] = src.y[:h, :w]
        p.u[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = src.u[: h // 2, : w // 2]
        p.v[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = src.v[: h // 2, : w // 2]

    def blend(self, sprite: Sprite, at: tuple[int, int]) -> None:
        """Blend ``sprite`` with its top-left at ``at`` (even, may be partly off the frame)."""
        x, y = at[0] & ~1, at[1] & ~1
        sw, sh = sprite.planes.size
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + sw), min(self.height, y + sh)
        if x1 <= x0 or y1 <= y0:
            return
        cut = (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))
        _mix(self.planes.y[y0:y1, x0:x1], sprite.planes.y[cut], sprite.alpha[cut])
        half = (slice((y0 - y) // 2, (y1 - y) // 2), slice((x0 - x) // 2, (x1 - x) // 2))
        for dst, src in ((self.planes.u, sprite.planes.u), (self.planes.v, sprite.planes.v)):
            _mix(dst[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2], src[half], sprite.alpha_half[half])

    def fill(self, box: tuple[int, int, int, int], yuv: tuple[int, int, int]) -> None:
        """Fill a rectangle (even coordinates) with one colour."""
        x0, y0, x1, y1 = box
        p = self.planes
        p.y[y0:y1, x0:x1] = yuv[0]
        p.u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = yuv[1]
        p.v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = yuv[2]

    def fade_from(self, picture: np.ndarray, weight: float) -> None:
        """Mix ``picture`` (a whole yuv420p array) over the frame with ``weight`` (0..1)."""
        a = round(weight * 256)
        mixed = (picture.astype(np.uint16) * a + self.data.astype(np.uint16) * (256 - a) + 128) >> 8
        self.data[:] = mixed


def _mix(dst: np.ndarray, src: np.ndarray, alpha: np.ndarray) -> None:
    dst[:] = (src * alpha + dst * (255 - alpha) + 127) // 255


def yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """One RGB colour in limited-range BT.601 YUV."""
    image = Image.new("RGB", (2, 2), rgb)
    planes = Planes.from_image(image)
    return (int(planes.y[0, 0]), int(planes.u[0, 0]), int(planes.v[0, 0]))
