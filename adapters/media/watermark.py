"""Burn a visible mark ("AI-generated", or "Storyboard preview" for the animatic) into a clip
in one decode → encode pass that QC also reads.

The mark is blended straight into the decoded frame's own YUV planes, and only in its
corner: the frame is never converted to RGB, nor copied to numpy and back (it is copied
once, in C, only while the decoder still references it), so the pass costs little more
than the re-encode it cannot avoid. Size, frame timestamps (so fps and frame count) are kept;
an audio stream is copied as is. :class:`YuvMark` is shared with the stitching pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from adapters.media.encoding import (
    Demux,
    add_h264,
    as_yuv420p,
    frame_planes,
    reason_of,
    split_planes,
    writable,
)
from adapters.media.qc import FrameMeter, QcLimits
from bot.errors import MediaError

DEFAULT_TEXT = "AI-generated · clipdesk"
# What a render made without a trained model (the storyboard animatic) says instead.
PREVIEW_TEXT = "Storyboard preview · clipdesk"


class Corner(StrEnum):
    TOP_LEFT = "top-left"
    TOP_RIGHT = "top-right"
    BOTTOM_LEFT = "bottom-left"
    BOTTOM_RIGHT = "bottom-right"


@dataclass(frozen=True)
class Watermark:
    """What to burn in: text, a logo image, or both side by side.

    Args:
        text: the words to show; ``None`` or empty for a logo alone.
        logo: a PNG/JPEG/WebP file, scaled to the text's height (or 8% of the frame).
        position: the corner, e.g. ``"bottom-right"``.
        opacity: 0 (invisible) to 1 (solid).
        size: text height as a fraction of the frame's shorter side.
    """

    text: str | None = DEFAULT_TEXT
    logo: Path | None = None
    position: Corner | str = Corner.BOTTOM_RIGHT
    opacity: float = 0.7
    size: float = 0.04

    def __post_init__(self) -> None:
        if self.position not in {c.value for c in Corner}:
            allowed = ", ".join(c.value for c in Corner)
            raise MediaError(f"watermark position {self.position!r} is not one of: {allowed}")
        if not 0.0 < self.opacity <= 1.0:
            raise MediaError(f"watermark opacity {self.opacity} must be above 0 and at most 1")
        if not self.text and self.logo is None:
            raise MediaError("a watermark needs a text, a logo, or both")


def load_logo(path: Path) -> Image.Image:
    """Open and fully decode the logo, so a file that is not an image fails here, clearly."""
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert("RGBA")
    except FileNotFoundError as exc:
        raise MediaError(f"the watermark logo {path} does not exist") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"the watermark logo {path} is not a readable image: {exc}") from exc


def render_mark(mark: Watermark, width: int, height: int) -> Image.Image:
    """The mark as an RGBA image for a ``width`` x ``height`` frame, opacity already applied."""
    unit = min(width, height)
    text_h = max(10, round(unit * mark.size))
    pad = max(2, text_h // 4)
    parts: list[Image.Image] = []
    if mark.logo is not None:
        logo = load_logo(mark.logo)
        target_h = max(8, round(text_h * 1.6) if mark.text else round(unit * 0.08))
        target_w = max(1, round(logo.width * target_h / logo.height))
        if target_w > width // 3:  # a very wide logo is capped by width instead
            target_w, target_h = width // 3, max(1, round(logo.height * (width // 3) / logo.width))
        parts.append(logo.resize((target_w, target_h), Image.Resampling.LANCZOS))
    if mark.text:
        parts.append(_text_image(mark.text, text_h, pad, max_w=width - 4 * pad))
    gap = pad if len(parts) > 1 else 0
    canvas = Image.new(
        "RGBA",
        (sum(p.width for p in parts) + gap, max(p.height for p in parts)),
        (0, 0, 0, 0),
    )
    x = 0
    for part in parts:
        canvas.alpha_composite(part, (x, (canvas.height - part.height) // 2))
        x += part.width + gap
    alpha = np.asarray(canvas.getchannel("A"), np.float32) * mark.opacity
    canvas.putalpha(Image.fromarray(alpha.round().astype(np.uint8), "L"))
    return canvas


def _text_image(text: str, text_h: int, pad: int, max_w: int) -> Image.Image:
    """White text with a soft dark shadow, readable on bright and dark footage alike."""
    font = ImageFont.load_default(size=text_h)
    while font.getlength(text) > max_w and text_h > 8:
        text_h -= 1
        font = ImageFont.load_default(size=text_h)
    left, top, right, bottom = font.getbbox(text)
    shadow = max(1, text_h // 12)
    size = (int(right - left) + 2 * pad + shadow, int(bottom - top) + 2 * pad + shadow)
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    origin = (pad - left, pad - top)
    draw.text((origin[0] + shadow, origin[1] + shadow), text, font=font, fill=(0, 0, 0, 160))
    draw.text(origin, text, font=font, fill=(255, 255, 255, 255))
    return image


class YuvMark:
    """The mark converted once to premultiplied Y, U, V planes at its even-aligned position."""

    def __init__(self, mark: Image.Image, width: int, height: int, corner: str, bt709: bool):
        w = min(mark.width + mark.width % 2, width)
        h = min(mark.height + mark.height % 2, height)
        padded = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        padded.paste(mark, (0, 0))
        rgba = np.asarray(padded, np.float32) / 255
        rgb, alpha = rgba[..., :3], rgba[..., 3]
        kr, kb = (0.2126, 0.0722) if bt709 else (0.299, 0.114)
        luma = kr * rgb[..., 0] + (1 - kr - kb) * rgb[..., 1] + kb * rgb[..., 2]
        cb = (rgb[..., 2] - luma) / (2 * (1 - kb))
        cr = (rgb[..., 0] - luma) / (2 * (1 - kr))
        self.alpha = alpha
        self.luma = (16 + 219 * luma) * alpha  # limited range, as H.264 from every provider is
        # chroma is half size: average the premultiplied values and the alpha over each 2x2
        self.c_alpha = _half(alpha)
        self.u = _half((128 + 224 * cb) * alpha)
        self.v = _half((128 + 224 * cr) * alpha)
        margin = 2 * round(min(width, height) * 0.015)
        x = margin if corner.endswith("left") else width - w - margin
        y = margin if corner.startswith("top") else height - h - margin
        self.left, self.top = max(0, x - x % 2), max(0, y - y % 2)
        self.w, self.h = w, h

    def blend(self, planes: np.ndarray, width: int, height: int) -> None:
        """Blend into a yuv420p array as ``VideoFrame.to_ndarray`` returns it, in place."""
        self.blend_planes(*split_planes(planes, width, height))

    def blend_planes(self, luma: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
        """Blend into Y, U and V planes (arrays or a frame's own, see ``frame_planes``), in place."""
        x, y, w, h = self.left, self.top, self.w, self.h
        _mix(luma[y : y + h, x : x + w], self.luma, self.alpha)
        cx, cy = x // 2, y // 2
        _mix(u[cy : cy + h // 2, cx : cx + w // 2], self.u, self.c_alpha)
        _mix(v[cy : cy + h // 2, cx : cx + w // 2], self.v, self.c_alpha)


def _half(plane: np.ndarray) -> np.ndarray:
    h, w = plane.shape
    half: np.ndarray = plane.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    return half


def _mix(target: np.ndarray, premultiplied: np.ndarray, alpha: np.ndarray) -> None:
    mixed = target * (1 - alpha) + premultiplied
    target[...] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class MarkedClip:
    """What the watermark pass wrote, and QC's measurements of the frames it decoded."""

    frames: int
    qc: FrameMeter
    has_audio: bool


class Undecodable(MediaError):
    """The source cannot be opened or has no picture; ``reason`` reads after "the clip"."""

    def __init__(self, source: Path, reason: str) -> None:
        super().__init__(f"the clip {source.name} {reason}")
        self.reason = reason


def burn_watermark(source: Path, dest: Path, mark: Watermark, *, limits: QcLimits = QcLimits()) -> MarkedClip:
    """Write ``source`` with ``mark`` burned in to ``dest``, measuring every frame for QC.

    This is the only decode of the clip in post-processing: QC reads the planes this pass
    decodes (before the mark goes on, so findings describe the provider's work). A clip
    that stops decoding part-way is written up to there and ``qc`` says where it stopped.

    Raises:
        Undecodable: the clip cannot be opened or has no video stream.
        MediaError: the logo is not an image, or encoding failed.
    """
    try:
        container = av.open(str(source))
    except (av.FFmpegError, OSError) as exc:
        raise Undecodable(source, f"cannot be opened: {reason_of(exc)}") from exc
    with container:
        if not container.streams.video:
            raise Undecodable(source, "has no video stream")
        video = container.streams.video[0]
        width, height = video.codec_context.width, video.codec_context.height
        if width % 2 or height % 2:
            raise MediaError(f"the clip is {width}x{height}; H.264 yuv420p needs even sides")
        overlay = YuvMark(render_mark(mark, width, height), width, height, str(mark.position), height >= 720)
        video.thread_type = "AUTO"
        audio = container.streams.audio[0] if container.streams.audio else None
        meter = FrameMeter(float(video.average_rate or video.guessed_rate or 24), limits)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            frames = _transcode(container, video, audio, dest, overlay, meter)
        except av.FFmpegError as exc:
            dest.unlink(missing_ok=True)
            raise MediaError(f"watermarking the clip {source.name} failed: {exc}") from exc
        return MarkedClip(frames, meter, audio is not None)


def _transcode(
    container: av.container.InputContainer,
    video: av.VideoStream,
    audio: av.AudioStream | None,
    dest: Path,
    overlay: YuvMark,
    meter: FrameMeter,
) -> int:
    rate = video.average_rate or video.guessed_rate or 24
    width, height = video.codec_context.width, video.codec_context.height
    time_base = video.time_base or Fraction(1, 90000)
    frames = 0
    with av.open(str(dest), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        # the input's time base and the decoded pts pass through, so timing is kept exactly
        stream = add_h264(out, width, height, rate, time_base)
        copied = out.add_stream_from_template(audio) if audio is not None else None
        demux = Demux(container, [video] + ([audio] if audio is not None else []))
        for item in demux:
            if isinstance(item, av.Packet):
                if copied is not None and item.dts is not None:
                    item.stream = copied
                    out.mux(item)
                continue
            frame = as_yuv420p(item)
            at = float(item.time) if item.time is not None else None
            meter.add_plane(frame_planes(frame)[0], at)  # before the mark: QC judges the provider's pixels
            frame = writable(frame)  # marked and encoded in place: no copy to numpy and back
            overlay.blend_planes(*frame_planes(frame))
            # a stream without timestamps: number the frames at the nominal rate
            if frame.pts is None:
                frame.pts = round(frames / float(rate) / float(time_base))
            frame.time_base = item.time_base or time_base
            out.mux(stream.encode(frame))
            frames += 1
        if demux.stopped:
            meter.stop(demux.stopped)
        out.mux(stream.encode(None))
    return frames
