"""Render an animatic: a storyboard MP4 of a brief's shots, encoded with PyAV.

Split from :mod:`adapters.providers.animatic` (the provider and its job files):
this module only turns an :class:`AnimaticJob` into frames and an H.264 file.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# ------------------------------------------------------------------------- the job


@dataclass(frozen=True)
class ShotCard:
    """One shot as the animatic shows it."""

    description: str
    camera: str
    seconds: float


@dataclass(frozen=True)
class AnimaticJob:
    """Everything needed to re-render a clip; saved as JSON so any process can resume it."""

    render_id: str
    title: str
    subtitle: str
    shots: tuple[ShotCard, ...]
    seconds: int
    width: int
    height: int
    fps: int
    seed: int

    @property
    def total_frames(self) -> int:
        return round(self.seconds * self.fps)

    @property
    def job_id(self) -> str:
        """Derived from the job itself, so submitting the same render twice reuses one job."""
        payload = json.dumps(self.to_dict(), sort_keys=True)
        return "anim_" + hashlib.sha256(payload.encode()).hexdigest()[:24]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnimaticJob:
        shots = tuple(ShotCard(**s) for s in data["shots"])
        return cls(**{**data, "shots": shots})


# ----------------------------------------------------------------------- rendering

FIELD_MARGIN = 1.3  # the background is this much larger than the frame, room to pan and zoom
# whole words of a shot's camera direction that choose the move
_ZOOM_IN = re.compile(r"\b(push|dolly in|zoom in|close|close-up|macro)\b")
_ZOOM_OUT = re.compile(r"\b(pull|out|reveal|wide|establishing)\b")
_VERTICAL = re.compile(r"\b(tilt|crane|pedestal|rise|rising|top-down|overhead)\b")
_BACKWARDS = re.compile(r"\b(left|down)\b")


@dataclass(frozen=True)
class _Move:
    """A camera move over the background: window centre and scale (1 = frame size), start to end."""

    start: tuple[float, float, float]
    end: tuple[float, float, float]

    def box(self, t: float, width: int, height: int) -> tuple[float, float, float, float]:
        cx, cy, scale = (a + (b - a) * t for a, b in zip(self.start, self.end, strict=True))
        w, h = width * scale, height * scale
        return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


@dataclass
class _Segment:
    frames: int
    field: Image.Image
    move: _Move
    overlay: Image.Image
    at: tuple[int, int]


def render_animatic(job: AnimaticJob, dest: Path, progress: Callable[[int, int], None] | None = None) -> None:
    """Encode the animatic of ``job`` to ``dest``: H.264, yuv420p, faststart, exact length."""
    width, height, fps, total = job.width, job.height, job.fps, job.total_frames
    fonts = _Fonts()
    hud = _Hud(width, height, total, fps, fonts)
    dest.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    with av.open(str(dest), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        out.metadata["title"] = job.title[:200]
        out.metadata["comment"] = "clipdesk animatic"
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "21"}
        stream.codec_context.time_base = Fraction(1, fps)
        stream.codec_context.gop_size = fps * 2
        # frame threads keep x264 busy on every core while Python draws the next frame
        stream.codec_context.thread_type = "FRAME"
        stream.codec_context.thread_count = 0
        index = 0
        for number, frames in enumerate(_plan(job)):
            segment = _segment(job, number, frames, fonts)
            for k in range(frames):
                t = _ease(k / max(1, frames - 1))
                image = segment.field.resize(
                    (width, height),
                    Image.Resampling.NEAREST,
                    box=segment.move.box(t, width, height),
                )
                image.paste(segment.overlay, segment.at, segment.overlay)
                hud.draw(image, index)
                frame = av.VideoFrame.from_ndarray(np.asarray(image), format="rgb24")
                frame.pts = index
                index += 1
                for packet in stream.encode(frame):
                    out.mux(packet)
                    done += 1
                    if progress:
                        progress(done, total)
        for packet in stream.encode():
            out.mux(packet)
            done += 1
            if progress:
                progress(done, total)


def _plan(job: AnimaticJob) -> list[int]:
    """Frames per segment (title card, then each shot) summing exactly to the clip's length."""
    total = job.total_frames
    title = min(round(job.fps * 1.5), total // 4)
    rest = total - title
    shots = job.shots[:rest]
    if not shots:
        return [total]
    weights = [max(s.seconds, 0.1) for s in shots]
    spare = rest - len(shots)  # every shot gets one frame, the rest is shared by weight
    exact = [spare * w / sum(weights) for w in weights]
    counts = [1 + math.floor(e) for e in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: math.floor(exact[i]) - exact[i])
    for i in by_remainder[: rest - sum(counts)]:
        counts[i] += 1
    return [title, *counts]


def _ease(t: float) -> float:
    return t * t * (3 - 2 * t)


def _segment(job: AnimaticJob, number: int, frames: int, fonts: _Fonts) -> _Segment:
    rng = np.random.default_rng([job.seed, number])
    width, height = job.width, job.height
    field = _background(rng, math.ceil(width * FIELD_MARGIN), math.ceil(height * FIELD_MARGIN))
    camera = job.shots[number - 1].camera if number else "slow push in"
    move = _camera_move(camera, rng, field.size, (width, height))
    overlay = _title_card(job, fonts) if number == 0 else _shot_card(job, number, fonts)
    box = overlay.getbbox() or (0, 0, 1, 1)
    return _Segment(frames, field, move, overlay.crop(box), (box[0], box[1]))


def _background(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """A smooth gradient-and-noise field, built coarse and upscaled: it is all low frequency."""
    cw, ch = max(8, width // 8), max(8, height // 8)
    hues = rng.random(2)
    colors = np.array([_hsv(h, 0.55 + 0.3 * rng.random(), 0.35 + 0.35 * rng.random()) for h in hues])
    angle = rng.random() * math.tau
    ys, xs = np.mgrid[0:ch, 0:cw].astype(np.float32)
    ramp = xs / cw * math.cos(angle) + ys / ch * math.sin(angle)
    ramp = (ramp - ramp.min()) / max(1e-6, float(np.ptp(ramp)))
    base = colors[0] * (1 - ramp[..., None]) + colors[1] * ramp[..., None]
    noise = np.zeros((ch, cw), np.float32)
    for cells, weight in ((4, 0.6), (10, 0.3), (24, 0.1)):
        grid = rng.random((cells, max(2, round(cells * cw / ch)))).astype(np.float32)
        layer = Image.fromarray((grid * 255).astype(np.uint8))
        layer = layer.resize((cw, ch), Image.Resampling.BICUBIC)
        noise += np.asarray(layer, np.float32) / 255 * weight
    coarse = np.clip(base * (0.55 + 0.9 * noise[..., None]), 0, 255).astype(np.uint8)
    return Image.fromarray(coarse, "RGB").resize((width, height), Image.Resampling.BICUBIC)


def _hsv(h: float, s: float, v: float) -> tuple[float, float, float]:
    i, f = int(h * 6) % 6, h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return (r * 255, g * 255, b * 255)


def _camera_move(
    camera: str, rng: np.random.Generator, field: tuple[int, int], frame: tuple[int, int]
) -> _Move:
    """Read the shot's camera words loosely so a "push in" zooms in and a "tilt" moves up."""
    words = camera.lower()
    near, far = 0.82, FIELD_MARGIN * 0.97
    if _ZOOM_OUT.search(words):
        scales = (near, far)
    elif _ZOOM_IN.search(words):
        scales = (far, near)
    else:
        # Even a "locked-off" shot drifts: an animatic that stands still reads as a frozen clip.
        scales = (0.95, 0.78 + 0.06 * float(rng.random()))
    axis = 1 if _VERTICAL.search(words) else 0
    direction = -1 if (_BACKWARDS.search(words) or rng.random() < 0.5) else 1

    def centre(scale: float, along: float) -> tuple[float, float]:
        slack = [(field[i] - frame[i] * scale) / 2 for i in (0, 1)]
        mid = [field[0] / 2, field[1] / 2]
        mid[axis] += direction * along * slack[axis] * 0.9
        return (mid[0], mid[1])

    start, end = centre(scales[0], -1.0), centre(scales[1], 1.0)
    return _Move((*start, scales[0]), (*end, scales[1]))


class _Fonts:
    """Pillow's scalable default font, cached per size within one render (faces are not shared)."""

    def __init__(self) -> None:
        self._cache: dict[int, ImageFont.FreeTypeFont] = {}

    def __call__(self, size: int) -> ImageFont.FreeTypeFont:
        if size not in self._cache:
            font = ImageFont.load_default(size=size)
            assert isinstance(font, ImageFont.FreeTypeFont), "needs Pillow >= 10.1 with FreeType"
            self._cache[size] = font
        return self._cache[size]


def _fit(
    text: str, fonts: _Fonts, max_w: int, max_h: int, start: int, smallest: int, max_lines: int = 99
) -> tuple[ImageFont.FreeTypeFont, list[str], int]:
    """Shrink the font until ``text`` wraps into the box; below ``smallest``, cut with "…"."""
    size = start
    while True:
        font = fonts(size)
        line_h = round(size * 1.25)
        lines = _wrap(text, font, max_w)
        if (len(lines) * line_h <= max_h and len(lines) <= max_lines) or size <= smallest:
            break
        size = max(smallest, min(size - 1, int(size * 0.9)))
    keep = max(1, min(len(lines), max_lines, max_h // line_h))
    if len(lines) > keep:
        last = lines[keep - 1]
        while last and font.getlength(last + "…") > max_w:
            last = last[:-1]
        lines = [*lines[: keep - 1], last.rstrip() + "…"]
    return font, lines, line_h


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_w: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        while font.getlength(word) > max_w and len(word) > 1:  # a word wider than the box: break it
            cut = len(word) - 1
            while cut > 1 and font.getlength(word[:cut]) > max_w:
                cut -= 1
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= max_w:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines or [""]


def _panel(
    canvas: Image.Image,
    lines: list[str],
    font: ImageFont.FreeTypeFont,
    line_h: int,
    centre_x: int | None,
    top: int,
    left: int,
    pad: int,
) -> tuple[int, int, int, int]:
    """Draw ``lines`` in white on a dark translucent panel; return the panel box."""
    widths = [font.getlength(line) for line in lines]
    block_w, block_h = int(max(widths)), line_h * len(lines)
    x0 = centre_x - block_w // 2 - pad if centre_x is not None else left
    box = (x0, top, x0 + block_w + 2 * pad, top + block_h + 2 * pad)
    ImageDraw.Draw(canvas).rounded_rectangle(box, radius=pad, fill=(10, 12, 18, 165))
    mask = Image.new("L", canvas.size, 0)
    draw = ImageDraw.Draw(mask)
    for i, (line, w) in enumerate(zip(lines, widths, strict=True)):
        x = x0 + pad + (int(block_w - w) // 2 if centre_x is not None else 0)
        y = top + pad + i * line_h + (line_h - font.size) // 2
        draw.text((x, y), line, fill=255, font=font)
    canvas.paste((255, 255, 255, 255), (0, 0), mask)
    return box


def _units(job: AnimaticJob) -> tuple[int, int]:
    unit = min(job.width, job.height)
    return unit, round(unit * 0.05)


def _title_card(job: AnimaticJob, fonts: _Fonts) -> Image.Image:
    canvas = Image.new("RGBA", (job.width, job.height), (0, 0, 0, 0))
    unit, margin = _units(job)
    pad = round(unit * 0.025)
    tag_font = fonts(round(unit * 0.032))
    tag_h = round(tag_font.size * 1.25)
    _panel(canvas, ["ANIMATIC · clipdesk"], tag_font, tag_h, None, margin, margin, pad)
    inner = job.width - 2 * margin - 2 * pad
    font, lines, line_h = _fit(
        job.title, fonts, inner, int(job.height * 0.4), round(unit * 0.085), round(unit * 0.035)
    )
    sub_font, sub_lines, sub_h = _fit(
        job.subtitle,
        fonts,
        inner,
        int(job.height * 0.15),
        round(unit * 0.04),
        round(unit * 0.025),
        max_lines=2,
    )
    block = line_h * len(lines) + 2 * pad + pad + sub_h * len(sub_lines) + 2 * pad
    top = (job.height - block) // 2
    box = _panel(canvas, lines, font, line_h, job.width // 2, top, 0, pad)
    _panel(canvas, sub_lines, sub_font, sub_h, job.width // 2, box[3] + pad, 0, pad)
    return canvas


def _shot_card(job: AnimaticJob, number: int, fonts: _Fonts) -> Image.Image:
    shot = job.shots[number - 1]
    canvas = Image.new("RGBA", (job.width, job.height), (0, 0, 0, 0))
    unit, margin = _units(job)
    pad = round(unit * 0.025)
    inner = job.width - 2 * margin - 2 * pad
    label = f"SHOT {number}/{len(job.shots)} · {shot.camera}"
    tag_font, tag_lines, tag_h = _fit(
        label,
        fonts,
        inner,
        int(job.height * 0.12),
        round(unit * 0.034),
        round(unit * 0.022),
        max_lines=2,
    )
    tag = _panel(canvas, tag_lines, tag_font, tag_h, None, margin, margin, pad)
    room = job.height - tag[3] - 2 * margin - round(unit * 0.12)  # keep clear of the HUD below
    font, lines, line_h = _fit(
        shot.description,
        fonts,
        inner,
        min(room, int(job.height * 0.55)),
        round(unit * 0.07),
        round(unit * 0.03),
    )
    block = line_h * len(lines) + 2 * pad
    top = max(tag[3] + margin, (job.height - block) // 2)
    _panel(canvas, lines, font, line_h, job.width // 2, top, 0, pad)
    return canvas


class _Hud:
    """The progress bar and timecode: the only pixels drawn every frame."""

    def __init__(self, width: int, height: int, total: int, fps: int, fonts: _Fonts) -> None:
        unit = min(width, height)
        self.total, self.fps = total, fps
        self.margin = round(unit * 0.05)
        self.bar_h = max(4, round(unit * 0.012))
        self.bar_y = height - self.margin // 2 - self.bar_h
        self.width = width
        self.font = fonts(round(unit * 0.03))
        self.pad = round(unit * 0.012)
        self._stamps: dict[str, Image.Image] = {}
        self._end = self._clock(total)

    def _clock(self, frames: int) -> str:
        seconds = frames // self.fps
        return f"{seconds // 60}:{seconds % 60:02d}"

    def _stamp(self, text: str) -> Image.Image:
        if text not in self._stamps:
            w = int(self.font.getlength(text)) + 2 * self.pad
            h = round(self.font.size * 1.25) + self.pad
            stamp = Image.new("RGBA", (w, h), (10, 12, 18, 165))
            ImageDraw.Draw(stamp).text(
                (self.pad, self.pad // 2), text, fill=(255, 255, 255, 255), font=self.font
            )
            self._stamps[text] = stamp
        return self._stamps[text]

    def draw(self, image: Image.Image, index: int) -> None:
        left, right = self.margin, self.width - self.margin
        filled = left + round((right - left) * (index + 1) / self.total)
        draw = ImageDraw.Draw(image)
        draw.rectangle((left, self.bar_y, right, self.bar_y + self.bar_h), fill=(30, 32, 40))
        draw.rectangle((left, self.bar_y, filled, self.bar_y + self.bar_h), fill=(250, 250, 250))
        stamp = self._stamp(f"{self._clock(index)} / {self._end}")
        at = (left, self.bar_y - stamp.height - self.pad)  # bottom right is where watermarks go
        image.paste(stamp, at, stamp)
