"""The subject shapes of the animatic: a bottle, a phone, a person, streamlines… in a few strokes.

Each shape is drawn standing on ``base`` (its bottom centre), ``height`` pixels tall, in the
palette's subject colour with ink outlines. ``variant`` is the right-hand side of a
side-by-side comparison: for streamlines it turns laminar into turbulent flow.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PIL import ImageDraw

RGB = tuple[int, int, int]
Point = tuple[float, float]


@dataclass(frozen=True)
class Palette:
    sky: tuple[RGB, RGB]  # top, horizon
    ground: tuple[RGB, RGB]  # horizon, bottom
    accent: RGB
    subject: RGB
    ink: RGB  # outlines and details


Shape = Callable[[ImageDraw.ImageDraw, Point, float, Palette, int], None]


def _rgba(color: RGB, alpha: int = 255) -> tuple[int, int, int, int]:
    return (*color, alpha)


def _lighter(color: RGB, amount: float = 0.35) -> tuple[int, int, int, int]:
    return (*(round(c + (255 - c) * amount) for c in color), 255)  # type: ignore[return-value]


def _stroke(height: float) -> int:
    return max(2, round(height / 90))


def _bottle(draw: ImageDraw.ImageDraw, base: Point, height: float, pal: Palette, variant: int) -> None:
    x, y = base
    w = height * 0.3
    body = (x - w / 2, y - height * 0.7, x + w / 2, y)
    ink, line = _rgba(pal.ink), _stroke(height)
    draw.rounded_rectangle(body, radius=w * 0.22, fill=_rgba(pal.subject), outline=ink, width=line)
    neck = (x - w * 0.2, y - height * 0.86, x + w * 0.2, y - height * 0.68)
    draw.polygon(
        [
            (body[0] + w * 0.1, body[1] + w * 0.1),
            (neck[0], neck[3]),
            (neck[2], neck[3]),
            (body[2] - w * 0.1, body[1] + w * 0.1),
        ],
        fill=_rgba(pal.subject),
        outline=ink,
    )
    draw.rectangle(neck, fill=_rgba(pal.subject), outline=ink, width=line)
    draw.rounded_rectangle(
        (x - w * 0.26, y - height, x + w * 0.26, y - height * 0.85),
        radius=w * 0.06,
        fill=_rgba(pal.accent),
        outline=ink,
        width=line,
    )
    draw.rounded_rectangle(
        (x - w * 0.32, y - height * 0.6, x - w * 0.18, y - height * 0.08),
        radius=w * 0.07,
        fill=_lighter(pal.subject, 0.55),
    )  # highlight
    draw.rectangle((body[0], y - height * 0.42, body[2], y - height * 0.3), fill=_rgba(pal.accent))  # band


def _device(draw: ImageDraw.ImageDraw, base: Point, height: float, pal: Palette, variant: int) -> None:
    x, y = base
    w = height * 0.52
    draw.rounded_rectangle((x - w / 2, y - height, x + w / 2, y), radius=w * 0.12, fill=_rgba(pal.ink))
    screen = (x - w * 0.43, y - height * 0.94, x + w * 0.43, y - height * 0.06)
    draw.rounded_rectangle(screen, radius=w * 0.06, fill=_lighter(pal.subject, 0.7))
    for i in range(4):  # interface blocks
        top = screen[1] + height * (0.08 + 0.2 * i)
        fill = _rgba(pal.accent) if i == 0 else _lighter(pal.subject, 0.3)
        draw.rounded_rectangle(
            (screen[0] + w * 0.08, top, screen[2] - w * 0.08 * (1 + i % 2), top + height * 0.12),
            radius=w * 0.03,
            fill=fill,
        )


def _person(draw: ImageDraw.ImageDraw, base: Point, height: float, pal: Palette, variant: int) -> None:
    x, y = base
    ink, line = _rgba(pal.ink), max(4, round(height / 28))
    head = height * 0.13
    draw.ellipse(
        (x - head, y - height, x + head, y - height + 2 * head),
        fill=_lighter(pal.accent, 0.5),
        outline=ink,
        width=_stroke(height),
    )
    shoulders, hips = y - height * 0.7, y - height * 0.36
    draw.rounded_rectangle(
        (x - height * 0.13, shoulders, x + height * 0.13, hips), radius=height * 0.05, fill=_rgba(pal.subject)
    )
    swing = 1 if variant == 0 else -1
    draw.line(
        [(x - height * 0.12, shoulders + 8), (x - height * 0.24, y - height * 0.45 * swing**2)],
        fill=ink,
        width=line,
    )
    draw.line(
        [(x + height * 0.12, shoulders + 8), (x + height * 0.26, y - height * 0.62)], fill=ink, width=line
    )
    draw.line([(x - height * 0.07, hips), (x - height * 0.14, y)], fill=ink, width=line)
    draw.line([(x + height * 0.07, hips), (x + height * 0.14, y)], fill=ink, width=line)


def _vehicle(draw: ImageDraw.ImageDraw, base: Point, height: float, pal: Palette, variant: int) -> None:
    x, y = base
    w, h = height * 1.1, height * 0.34
    wheel = h * 0.42
    ink = _rgba(pal.ink)
    draw.polygon(
        [
            (x - w * 0.28, y - h - wheel * 0.6),
            (x - w * 0.14, y - h * 1.9),
            (x + w * 0.2, y - h * 1.9),
            (x + w * 0.34, y - h - wheel * 0.6),
        ],
        fill=_lighter(pal.subject, 0.45),
        outline=ink,
    )
    draw.rounded_rectangle(
        (x - w / 2, y - h - wheel * 0.6, x + w / 2, y - wheel * 0.6),
        radius=h * 0.3,
        fill=_rgba(pal.accent),
        outline=ink,
        width=_stroke(height),
    )
    for cx in (x - w * 0.3, x + w * 0.3):
        draw.ellipse((cx - wheel, y - 2 * wheel, cx + wheel, y), fill=ink)
        draw.ellipse(
            (cx - wheel * 0.4, y - wheel * 1.4, cx + wheel * 0.4, y - wheel * 0.6),
            fill=_lighter(pal.ink, 0.6),
        )


def _flow(draw: ImageDraw.ImageDraw, base: Point, height: float, pal: Palette, variant: int) -> None:
    """Streamlines: straight and parallel (laminar), or curling eddies (turbulent, the variant)."""
    x, y = base
    w = height * 1.0
    box = (x - w / 2, y - height * 0.9, x + w / 2, y)
    draw.rounded_rectangle(
        box,
        radius=height * 0.04,
        fill=_lighter(pal.subject, 0.8),
        outline=_rgba(pal.ink),
        width=_stroke(height),
    )
    lines, line = 6, max(3, round(height / 60))
    for i in range(lines):
        row = box[1] + (i + 0.5) * (box[3] - box[1]) / lines
        points = []
        for k in range(41):
            t = k / 40
            wobble = 0.0
            if variant:  # turbulence: several scales of swirl, growing downstream
                wobble = t * height * 0.05 * (math.sin(t * 19 + i * 2.1) + 0.6 * math.sin(t * 43 + i * 5.3))
            points.append((box[0] + w * 0.06 + t * w * 0.88, row + wobble))
        draw.line(points, fill=_rgba(pal.accent if i % 2 else pal.subject), width=line)
        end = points[-1]
        draw.polygon(
            [(end[0], end[1] - line * 2), (end[0] + line * 3, end[1]), (end[0], end[1] + line * 2)],
            fill=_rgba(pal.ink),
        )
    if variant:
        for i in range(3):
            cx, cy, r = (
                box[0] + w * (0.45 + 0.17 * i),
                box[1] + height * (0.25 + 0.2 * (i % 2)),
                height * 0.07,
            )
            draw.arc((cx - r, cy - r, cx + r, cy + r), 30, 320, fill=_rgba(pal.ink), width=line)


def _plant(draw: ImageDraw.ImageDraw, base: Point, height: float, pal: Palette, variant: int) -> None:
    x, y = base
    ink = _rgba(pal.ink)
    draw.polygon(
        [
            (x - height * 0.16, y - height * 0.28),
            (x + height * 0.16, y - height * 0.28),
            (x + height * 0.12, y),
            (x - height * 0.12, y),
        ],
        fill=_rgba(pal.accent),
        outline=ink,
    )
    draw.line(
        [(x, y - height * 0.28), (x, y - height * 0.85)],
        fill=(60, 130, 70, 255),
        width=max(3, round(height / 40)),
    )
    for k, side in enumerate((-1, 1, -1, 1)):
        ly = y - height * (0.4 + 0.1 * k)
        draw.ellipse(
            (
                x + side * height * 0.02 - (height * 0.18 if side < 0 else 0),
                ly - height * 0.05,
                x + side * height * 0.02 + (height * 0.18 if side > 0 else 0),
                ly + height * 0.05,
            ),
            fill=(80, 160, 90, 255),
        )
    draw.ellipse(
        (x - height * 0.1, y - height, x + height * 0.1, y - height * 0.8),
        fill=_lighter(pal.accent, 0.3),
        outline=ink,
    )


def _food(draw: ImageDraw.ImageDraw, base: Point, height: float, pal: Palette, variant: int) -> None:
    x, y = base
    w = height * 1.1
    ink = _rgba(pal.ink)
    draw.ellipse(
        (x - w / 2, y - height * 0.2, x + w / 2, y),
        fill=(248, 248, 248, 255),
        outline=ink,
        width=_stroke(height),
    )
    draw.chord(
        (x - w * 0.35, y - height * 0.62, x + w * 0.35, y - height * 0.04),
        180,
        360,
        fill=_rgba(pal.accent),
        outline=ink,
        width=_stroke(height),
    )
    for k in (-1, 0, 1):  # steam
        sx = x + k * w * 0.14
        draw.arc(
            (sx - height * 0.05, y - height * 0.98, sx + height * 0.05, y - height * 0.72),
            100,
            260,
            fill=_lighter(pal.ink, 0.5),
            width=_stroke(height),
        )


def _animal(draw: ImageDraw.ImageDraw, base: Point, height: float, pal: Palette, variant: int) -> None:
    x, y = base
    ink = _rgba(pal.ink)
    fur = _rgba(pal.accent)
    body = (x - height * 0.42, y - height * 0.62, x + height * 0.3, y - height * 0.24)
    for lx in (
        body[0] + height * 0.08,
        body[0] + height * 0.2,
        body[2] - height * 0.2,
        body[2] - height * 0.08,
    ):
        draw.rectangle((lx - height * 0.035, body[3] - 4, lx + height * 0.035, y), fill=ink)
    draw.ellipse(body, fill=fur, outline=ink, width=_stroke(height))
    hx, hy, r = body[2] + height * 0.06, body[1] - height * 0.06, height * 0.16
    draw.polygon(
        [(hx - r * 0.8, hy - r * 0.5), (hx - r * 0.5, hy - r * 1.5), (hx - r * 0.1, hy - r * 0.8)], fill=ink
    )
    draw.polygon(
        [(hx + r * 0.1, hy - r * 0.8), (hx + r * 0.5, hy - r * 1.5), (hx + r * 0.8, hy - r * 0.5)], fill=ink
    )
    draw.ellipse((hx - r, hy - r, hx + r, hy + r), fill=fur, outline=ink, width=_stroke(height))
    draw.line(
        [(body[0], body[1] + height * 0.1), (body[0] - height * 0.14, body[1] - height * 0.08)],
        fill=ink,
        width=max(3, round(height / 40)),
    )


def _building(draw: ImageDraw.ImageDraw, base: Point, height: float, pal: Palette, variant: int) -> None:
    x, y = base
    w = height * 0.6
    ink = _rgba(pal.ink)
    draw.rectangle(
        (x - w / 2, y - height * 0.72, x + w / 2, y),
        fill=_rgba(pal.subject),
        outline=ink,
        width=_stroke(height),
    )
    draw.polygon(
        [(x - w * 0.6, y - height * 0.72), (x, y - height), (x + w * 0.6, y - height * 0.72)],
        fill=_rgba(pal.accent),
        outline=ink,
    )
    for row in range(3):
        for col in (-1, 1):
            wx, wy = x + col * w * 0.22, y - height * (0.6 - 0.18 * row)
            draw.rectangle((wx - w * 0.08, wy, wx + w * 0.08, wy + height * 0.1), fill=(250, 224, 150, 255))
    draw.rectangle((x - w * 0.08, y - height * 0.16, x + w * 0.08, y), fill=ink)


def _object(draw: ImageDraw.ImageDraw, base: Point, height: float, pal: Palette, variant: int) -> None:
    """Anything else: a hero block with a badge, the storyboard's "the product goes here"."""
    x, y = base
    w = height * 0.62
    ink = _rgba(pal.ink)
    draw.rounded_rectangle(
        (x - w / 2, y - height * 0.8, x + w / 2, y),
        radius=w * 0.14,
        fill=_rgba(pal.subject),
        outline=ink,
        width=_stroke(height),
    )
    draw.polygon(
        [
            (x - w / 2, y - height * 0.8),
            (x - w * 0.3, y - height * 0.92),
            (x + w * 0.62, y - height * 0.92),
            (x + w / 2, y - height * 0.8),
        ],
        fill=_lighter(pal.subject, 0.4),
        outline=ink,
    )
    r = w * 0.24
    draw.ellipse(
        (x - r, y - height * 0.4 - r, x + r, y - height * 0.4 + r),
        fill=_rgba(pal.accent),
        outline=ink,
        width=_stroke(height),
    )


SHAPES: dict[str, Shape] = {
    "bottle": _bottle,
    "device": _device,
    "person": _person,
    "vehicle": _vehicle,
    "flow": _flow,
    "plant": _plant,
    "food": _food,
    "animal": _animal,
    "building": _building,
    "object": _object,
}


# how wide each shape is for its height, so a layout can make it fit
SHAPE_WIDTHS = {"vehicle": 1.2, "flow": 1.0, "food": 1.1, "animal": 0.95, "building": 0.75, "object": 0.7}


def draw_shape(
    draw: ImageDraw.ImageDraw, kind: str, base: Point, height: float, pal: Palette, variant: int = 0
) -> None:
    """Draw the subject shape ``kind`` standing on ``base``."""
    SHAPES.get(kind, _object)(draw, base, height, pal, variant)
