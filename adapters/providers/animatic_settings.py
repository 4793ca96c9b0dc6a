"""The settings the animatic draws behind a subject: a kitchen, a beach, a city, a diagram grid…

Each painter draws across the whole world (wider than the frame), so a pan reveals more of
the same place. Painters get one :class:`Canvas`; the random generator is seeded from the
brief, so a setting looks the same every time it is drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import ImageDraw

from adapters.providers.animatic_shapes import RGB, Palette


@dataclass
class Canvas:
    """Where a painter draws: the world's size, its horizon row, the frame's short side, colours."""

    draw: ImageDraw.ImageDraw
    rng: np.random.Generator
    size: tuple[int, int]
    horizon: int
    unit: int
    pal: Palette


def _shade(color: RGB, factor: float) -> RGB:
    return tuple(int(min(255, max(0, c * factor))) for c in color)  # type: ignore[return-value]


def _paint_outdoor(c: Canvas) -> None:
    draw, rng, size, horizon, unit, pal = c.draw, c.rng, c.size, c.horizon, c.unit, c.pal
    width, _ = size
    draw.ellipse(
        (width * 0.72, horizon - unit * 0.55, width * 0.72 + unit * 0.16, horizon - unit * 0.39),
        fill=_shade(pal.sky[1], 1.12),
    )
    for i in range(5):
        cx = width * (i + 0.3 * rng.random()) / 4
        r = unit * (0.35 + 0.25 * rng.random())
        draw.ellipse(
            (cx - r * 1.6, horizon - r * 0.35, cx + r * 1.6, horizon + r * 0.35),
            fill=_shade(pal.ground[0], 0.9 + 0.06 * i % 3),
        )


def _paint_interior(c: Canvas) -> None:
    draw, size, horizon, unit, pal = c.draw, c.size, c.horizon, c.unit, c.pal
    width, _ = size
    wall = _shade(pal.sky[1], 0.96)
    draw.rectangle((0, 0, width, horizon), fill=wall)
    line = max(2, unit // 200)
    for x in range(0, width, round(unit * 0.9)):  # wall cabinets
        draw.rectangle(
            (x + unit * 0.05, horizon * 0.06, x + unit * 0.8, horizon * 0.42),
            outline=_shade(wall, 0.8),
            width=line,
        )
    win = width * 0.62
    draw.rectangle(
        (win, horizon * 0.5, win + unit * 0.6, horizon * 0.9),
        fill=_shade(pal.sky[0], 1.1),
        outline=_shade(wall, 0.7),
        width=3 * line,
    )
    draw.line(
        (win + unit * 0.3, horizon * 0.5, win + unit * 0.3, horizon * 0.9),
        fill=_shade(wall, 0.7),
        width=2 * line,
    )
    draw.rectangle(
        (0, horizon, width, horizon + unit * 0.04), fill=_shade(pal.ground[0], 0.8)
    )  # counter edge


def _paint_studio(c: Canvas) -> None:
    draw, size, horizon, unit, pal = c.draw, c.size, c.horizon, c.unit, c.pal
    width, _ = size
    for k in range(12):  # a soft sweep where backdrop meets floor: no hard horizon
        band = horizon - unit * 0.12 + k * unit * 0.02
        draw.rectangle((0, band, width, band + unit * 0.02), fill=_blend(pal.sky[1], pal.ground[0], k / 11))


def _blend(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x * (1 - t) + y * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _paint_water(c: Canvas) -> None:
    draw, size, horizon, unit = c.draw, c.size, c.horizon, c.unit
    width, height = size
    sea = (40, 110, 170)
    draw.rectangle((0, horizon, width, horizon + (height - horizon) * 0.55), fill=sea)
    for row in range(6):
        y = horizon + (row + 0.5) * (height - horizon) * 0.09
        for x in range(-unit // 4 + row * 17 % 40, width, unit // 4):
            draw.arc((x, y - 6, x + unit * 0.12, y + 10), 200, 340, fill=_shade(sea, 1.5), width=3)
    draw.ellipse(
        (width * 0.25, horizon - unit * 0.2, width * 0.25 + unit * 0.18, horizon - unit * 0.02),
        fill=(255, 236, 170),
    )


def _paint_city(c: Canvas) -> None:
    draw, rng, size, horizon, unit, pal = c.draw, c.rng, c.size, c.horizon, c.unit, c.pal
    width, _ = size
    x = 0.0
    while x < width:
        w, h = unit * (0.12 + 0.14 * rng.random()), unit * (0.25 + 0.45 * rng.random())
        body = _shade(pal.ink, 1.6 + 0.8 * rng.random())
        draw.rectangle((x, horizon - h, x + w, horizon), fill=body)
        for wy in np.arange(horizon - h + unit * 0.03, horizon - unit * 0.04, unit * 0.05):
            for wx in np.arange(x + unit * 0.02, x + w - unit * 0.03, unit * 0.04):
                draw.rectangle((wx, wy, wx + unit * 0.015, wy + unit * 0.02), fill=(250, 220, 140))
        x += w + unit * 0.02
    draw.rectangle((0, horizon + unit * 0.12, width, horizon + unit * 0.15), fill=(230, 230, 230))


def _paint_forest(c: Canvas) -> None:
    draw, rng, size, horizon, unit = c.draw, c.rng, c.size, c.horizon, c.unit
    width, _ = size
    for layer, shade in ((0, 0.55), (1, 0.75)):
        for x in np.arange(-unit * 0.1, width, unit * (0.2 - 0.05 * layer)):
            h = unit * (0.16 + 0.14 * rng.random()) * (1 + 0.4 * layer)
            base = horizon + layer * unit * 0.04
            draw.polygon(
                [(x, base), (x + h * 0.3, base - h), (x + h * 0.6, base)], fill=_shade((50, 120, 70), shade)
            )


def _paint_mountain(c: Canvas) -> None:
    draw, rng, size, horizon, unit = c.draw, c.rng, c.size, c.horizon, c.unit
    width, _ = size
    for x in np.arange(-unit * 0.3, width, unit * 0.55):
        h = unit * (0.35 + 0.3 * rng.random())
        peak = (x + unit * 0.4, horizon - h)
        draw.polygon([(x, horizon), peak, (x + unit * 0.8, horizon)], fill=(110, 118, 140))
        draw.polygon(
            [(peak[0] - h * 0.18, peak[1] + h * 0.25), peak, (peak[0] + h * 0.18, peak[1] + h * 0.25)],
            fill=(245, 248, 252),
        )


def _paint_space(c: Canvas) -> None:
    draw, rng, size, unit, pal = c.draw, c.rng, c.size, c.unit, c.pal
    width, height = size
    draw.rectangle((0, 0, width, height), fill=(8, 10, 24))
    for x, y, r in zip(
        rng.random(220) * width, rng.random(220) * height, rng.random(220) * 2.5 + 0.8, strict=True
    ):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(240, 240, 255))
    draw.ellipse(
        (width * 0.7, height * 0.15, width * 0.7 + unit * 0.3, height * 0.15 + unit * 0.3), fill=pal.accent
    )


def _paint_diagram(c: Canvas) -> None:
    draw, size, unit = c.draw, c.size, c.unit
    width, height = size
    draw.rectangle((0, 0, width, height), fill=(244, 246, 248))
    step = round(unit * 0.06)
    for x in range(0, width, step):
        draw.line((x, 0, x, height), fill=(214, 222, 232), width=1)
    for y in range(0, height, step):
        draw.line((0, y, width, y), fill=(214, 222, 232), width=1)


PAINTERS: dict[str, Callable[[Canvas], None]] = {
    "outdoor": _paint_outdoor,
    "interior": _paint_interior,
    "studio": _paint_studio,
    "water": _paint_water,
    "city": _paint_city,
    "forest": _paint_forest,
    "mountain": _paint_mountain,
    "space": _paint_space,
    "diagram": _paint_diagram,
}
