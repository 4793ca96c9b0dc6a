"""The storyboard's lettering: the label strip, the shot's text, the title card and the timecode bar.

Every card is an opaque rectangle drawn once per shot (the timecode once per frame number) and
converted to YUV once, so a frame only copies it. Opaque also keeps the text crisp over a
moving picture. Each card records where its lines of text are, so tests can check the glyphs.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from adapters.media.fonts import FontStack, load_fonts
from adapters.providers.animatic_plan import AnimaticJob, ShotTiming
from adapters.providers.animatic_planes import FrameBuffer, Patch, yuv

LABEL = "Storyboard preview"
INK = (14, 16, 22)  # card background
PAPER = (250, 250, 250)  # text
ACCENT = (255, 196, 0)
WEIGHT = 500


@dataclass(frozen=True)
class TextLine:
    """One line as drawn: its text, font size and weight, its line box's top-left in the frame,
    and the frame row of its baseline."""

    text: str
    size: int
    weight: int
    origin: tuple[int, int]
    baseline: int


@dataclass
class Card:
    patch: Patch
    lines: tuple[TextLine, ...]


def _even(value: float) -> int:
    return int(value) & ~1


def _units(job: AnimaticJob) -> tuple[int, int]:
    unit = min(job.width, job.height)
    return unit, _even(unit * 0.04)


def _fit(
    text: str, max_w: int, max_lines: int, start: int, smallest: int, weight: int = WEIGHT
) -> tuple[FontStack, list[str]]:
    """Shrink the font until ``text`` wraps into ``max_lines``; below ``smallest``, cut with "…"."""
    size = start
    while True:
        stack = load_fonts(size, weight)
        lines = stack.wrap(text, max_w)
        if len(lines) <= max_lines or size <= smallest:
            break
        size = max(smallest, min(size - 1, int(size * 0.9)))
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and stack.measure(last + "…") > max_w:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    return stack, lines


def _clip(stack: FontStack, text: str, max_w: float) -> str:
    if stack.measure(text) <= max_w:
        return text
    while text and stack.measure(text + "…") > max_w:
        text = text[:-1]
    return text.rstrip() + "…"


def _card(
    size: tuple[int, int],
    at: tuple[int, int],
    blocks: list[tuple[FontStack, list[str], tuple[int, int, int], bool]],
    pad: int,
    gap: int = 0,
) -> Card:
    """Draw blocks of lines (stack, lines, colour, centred) on an opaque card at ``at`` in the frame."""
    image = Image.new("RGBA", (size[0] + size[0] % 2, size[1] + size[1] % 2), (*INK, 255))
    placed: list[TextLine] = []
    y = pad
    for stack, lines, color, centred in blocks:
        for line in lines:
            x = (image.width - round(stack.measure(line))) // 2 if centred else pad
            stack.draw(image, (x, y), line, (*color, 255))
            placed.append(
                TextLine(line, stack.size, stack.weight, (at[0] + x, at[1] + y), at[1] + y + stack.ascent)
            )
            y += stack.line_height
        y += gap
    return Card(Patch.from_image(image.convert("RGB"), at), tuple(placed))


def label_strip(job: AnimaticJob, timing: ShotTiming) -> Card:
    """The top strip: "Storyboard preview", the shot number, its time span and its camera words.

    It changes exactly when the shot changes, which also makes shot boundaries visible to a viewer.
    """
    unit, margin = _units(job)
    stack = load_fonts(_even(unit * 0.032), 600)
    height = _even(stack.line_height + unit * 0.03)
    pad = (height - stack.ascent - stack.descent) // 2
    total = job.total_shots or len(job.shots)
    start, end = timing.start / job.fps, timing.end / job.fps
    shot = f"Shot {timing.shot.number}/{total} · {_clock(start)}–{_clock(end)}"
    camera = f" · {timing.shot.camera}" if timing.shot.camera else ""
    left_w = round(stack.measure(LABEL.upper()))
    room = job.width - 2 * margin - left_w - margin
    right = _clip(stack, shot + camera, room) if stack.measure(shot) <= room else _clip(stack, shot, room)
    image = Image.new("RGB", (job.width, height), INK)
    ImageDraw.Draw(image).rectangle((0, height - max(2, unit // 240), job.width, height), fill=ACCENT)
    stack.draw(image, (margin, pad), LABEL.upper(), (*ACCENT, 255))
    right_x = job.width - margin - round(stack.measure(right))
    stack.draw(image, (right_x, pad), right, (*PAPER, 255))
    lines = (
        TextLine(LABEL.upper(), stack.size, stack.weight, (margin, pad), pad + stack.ascent),
        TextLine(right, stack.size, stack.weight, (right_x, pad), pad + stack.ascent),
    )
    return Card(Patch.from_image(image, (0, 0)), lines)


def caption(job: AnimaticJob, text: str, bottom: int) -> Card | None:
    """The shot's own words in a box above ``bottom`` (the timecode bar's top)."""
    if not text.strip():
        return None
    unit, margin = _units(job)
    pad = _even(unit * 0.018)
    inner = job.width - 2 * margin - 2 * pad
    stack, lines = _fit(text, inner, 3, _even(unit * 0.046), _even(unit * 0.03))
    width = max(round(stack.measure(line)) for line in lines) + 2 * pad
    height = stack.line_height * len(lines) + 2 * pad
    at = (_even((job.width - width) / 2), _even(bottom - margin // 2 - height))
    return _card((width, height), at, [(stack, lines, PAPER, True)], pad)


def title_card(job: AnimaticJob) -> Card:
    """The title (the brief's subject) and a line of facts, over the first shot's start."""
    unit, _ = _units(job)
    pad = _even(unit * 0.03)
    inner = round(job.width * 0.84) - 2 * pad
    title, title_lines = _fit(job.title, inner, 3, _even(unit * 0.075), _even(unit * 0.036), 600)
    sub, sub_lines = _fit(job.subtitle, inner, 2, _even(unit * 0.036), _even(unit * 0.024))
    widths = [title.measure(t) for t in title_lines] + [sub.measure(t) for t in sub_lines]
    width = round(max(widths)) + 2 * pad
    height = title.line_height * len(title_lines) + sub.line_height * len(sub_lines) + 2 * pad + pad // 2
    # high in the frame, under the label strip: the subject below stays in view (and in motion)
    top = _even(unit * 0.075 + unit * 0.06)
    at = (_even((job.width - width) / 2), top)
    blocks = [(title, title_lines, PAPER, True), (sub, sub_lines, ACCENT, True)]
    return _card((width, height), at, blocks, pad, gap=pad // 2)


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


class TimecodeBar:
    """The bottom bar: a running timecode (hh:mm:ss:ff) and a progress bar ticked at shot cuts.

    The timecode changes every frame, so it is set from one patch per character (Noto Sans
    digits all have the same advance) instead of drawing and converting text per frame.
    """

    def __init__(self, job: AnimaticJob, cuts: list[int]) -> None:
        unit, margin = _units(job)
        self.fps, self.total = job.fps, job.total_frames
        stack = load_fonts(_even(unit * 0.03), WEIGHT)
        self.height = _even(stack.line_height + unit * 0.03)
        self.top = job.height - self.height
        pad = (self.height - stack.ascent - stack.descent) // 2
        running = self.timecode(0)
        text = f"{running} / {self.timecode(self.total)}"
        self.slots = [_even(margin + stack.measure(running[:i])) for i in range(len(running))]
        cell = _even(max(stack.measure(c) for c in "0123456789:") + 2)
        self.glyphs = {c: _glyph(stack, c, (cell, self.height), pad) for c in "0123456789:"}
        bar_h = max(4, _even(unit * 0.012))
        x0 = _even(margin + stack.measure(text) + margin)
        self.bar = (x0, _even(self.top + (self.height - bar_h) / 2), job.width - margin, bar_h)
        image = Image.new("RGB", (job.width, self.height), INK)
        stack.draw(image, (margin, pad), text, (*PAPER, 255))
        draw = ImageDraw.Draw(image)
        y0, x1 = self.bar[1] - self.top, self.bar[2]
        draw.rectangle((x0, y0, x1, y0 + bar_h - 1), fill=(52, 56, 68))
        for cut in cuts:  # where each shot starts
            x = x0 + round((x1 - x0) * cut / self.total)
            draw.rectangle((x - 1, y0 - bar_h, x + 1, y0 + 2 * bar_h), fill=ACCENT)
        self.base = Patch.from_image(image, (0, self.top))
        self.fill_yuv = yuv(PAPER)
        top = self.top + pad
        self.lines = (TextLine(text, stack.size, stack.weight, (margin, top), top + stack.ascent),)

    def timecode(self, frame: int) -> str:
        seconds, frames = divmod(frame, self.fps)
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{frames:02d}"

    def draw(self, frame: FrameBuffer, index: int) -> None:
        frame.paste(self.base)
        for x, char in zip(self.slots, self.timecode(index), strict=True):
            frame.paste(self.glyphs[char], (x, self.top))
        x0, y0, x1, bar_h = self.bar
        filled = _even(x0 + (x1 - x0) * (index + 1) / self.total)
        if filled > x0:
            frame.fill((x0, y0, filled, y0 + bar_h), self.fill_yuv)


def _glyph(stack: FontStack, char: str, size: tuple[int, int], pad: int) -> Patch:
    image = Image.new("RGB", size, INK)
    stack.draw(image, (0, pad), char, (*PAPER, 255))
    return Patch.from_image(image, (0, 0))
