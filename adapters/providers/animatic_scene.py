"""The picture of a shot: simple shapes for its setting and its subject, read from the brief's words.

A storyboard artist draws a bottle as a bottle and a beach as sand, sea and sky; this module does
the same with a small vocabulary of shapes so that a draft reads as the user's request. The
words come from the brief (subject, setting, lighting, style) and the shot (description,
camera framing); the same words always give the same picture.

The world is drawn larger than the frame (:data:`WORLD_MARGIN`) so the camera can pan and
zoom across it; the subject can also be drawn apart as a sprite for moves with parallax.
"""

from __future__ import annotations

import colorsys
import math
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from adapters.providers.animatic_settings import PAINTERS, Canvas
from adapters.providers.animatic_shapes import RGB, SHAPE_WIDTHS, SHAPES, Palette, draw_shape

WORLD_MARGIN = 1.4  # the world is this much larger than the frame, room to pan and pull out
# Where things stand, in frame heights below the world's centre: the picture between the label
# strip and the caption sits a little above the frame's centre, so the subject does too.
HORIZON = 0.05
GROUND = 0.15  # the subject's base
SUBJECT_HEIGHT = 0.42  # at medium framing


def _kinds(table: dict[str, str]) -> list[tuple[str, re.Pattern[str]]]:
    """Whole words with an optional plural "s"; CJK words anywhere (they are not space-separated)."""
    patterns = []
    for kind, words in table.items():
        latin = [w for w in words.split("|") if w.isascii()]
        cjk = [w for w in words.split("|") if not w.isascii()]
        alternatives = [r"\b(?:" + "|".join(latin) + r")s?\b", *cjk]
        patterns.append((kind, re.compile("|".join(alternatives))))
    return patterns


# first match wins; words are matched whole, with an optional plural "s"
_SETTINGS = _kinds(
    {
        "diagram": "diagram|graphic|chart|minimal|whiteboard|blackboard|infographic|图|图表",
        "space": "outer space|in space|star|planet|galaxy|cosmos|moon|astronaut|太空|星空",
        "water": "beach|sea|ocean|river|lake|coast|shore|harbou?r|pool|waterfront|海|海滩|河",
        "city": "city|street|urban|skyline|downtown|road|town|城市|街",
        "forest": "forest|woods|tree|jungle|park|garden|森林|公园",
        "mountain": "mountain|hill|trail|peak|alpine|valley|cliff|山",
        "studio": "studio|backdrop|seamless|tabletop",
        "interior": "kitchen|counter|desk|office|table|lab|laboratory|bench|workspace|classroom|room|"
        "shop|store|cafe|home|living|厨房|办公室|教室|桌",
    }
)
_SUBJECTS = _kinds(
    {
        "bottle": "bottle|flask|can|drink|cup|mug|glass|jar|thermos|tumbler|瓶|杯",
        "device": "phone|smartphone|app|laptop|screen|tablet|computer|website|software|dashboard|watch",
        "flow": "flow|fluid|laminar|turbulent|turbulence|wind|airflow|current|wave|stream|water|"
        "流|流体|层流|湍流|气流|水流",
        "person": "person|people|man|woman|child|kid|teacher|student|runner|team|athlete|chef|family|"
        "customer|user|hand|dancer|worker|friend|girl|boy",
        "vehicle": "car|truck|bike|bicycle|vehicle|bus|train|scooter|motorbike|van",
        "plant": "plant|flower|leaf|leaves|succulent|seedling|bouquet",
        "food": "food|cake|pizza|dish|bowl|coffee|meal|burger|salad|bread|recipe|cookie|soup|pasta",
        "animal": "dog|cat|bird|animal|pet|horse|fox|puppy|kitten|rabbit",
        "building": "house|building|tower|skyscraper|castle|cabin|factory",
    }
)
_SPLIT = re.compile(
    r"\b(?:vs|versus|difference|differences|compare|comparison|contrast|contrasting|"
    r"side by side|split-screen|split)\b|区别|对比|比较"
)
_NIGHT = re.compile(r"\b(?:night|dusk|moody|neon|dark|dramatic|noir|moonlit|evening)\b")
_WARM = re.compile(r"\b(?:golden|sunset|sunrise|dawn|warm|candle|amber|autumn)\b")
_BOLD = re.compile(r"\b(?:bold|punchy|high-energy|vibrant|saturated|colourful|colorful)\b")


@dataclass(frozen=True)
class Scene:
    """What one shot's picture shows."""

    setting: str
    subject: str
    palette: Palette
    framing: float = 1.0
    split: bool = False
    seed: int = 0


def _pick(table: list[tuple[str, re.Pattern[str]]], *texts: str, default: str) -> str:
    for text in texts:
        for kind, pattern in table:
            if pattern.search(text.lower()):
                return kind
    return default


def _palette(lighting: str, style: str, seed: int) -> Palette:
    words = f"{lighting} {style}".lower()
    hue = float(np.random.default_rng(seed).random())  # a per-brief accent, so briefs differ at a glance
    r, g, b = colorsys.hsv_to_rgb(hue, 0.78, 0.92)
    accent: RGB = (round(r * 255), round(g * 255), round(b * 255))
    if _NIGHT.search(words):
        night = ((18, 22, 48), (78, 60, 112)), ((44, 40, 60), (20, 18, 30))
        return Palette(*night, accent=accent, subject=(190, 200, 225), ink=(235, 235, 250))
    if _WARM.search(words):
        warm = ((246, 176, 110), (255, 226, 170)), ((196, 150, 104), (150, 104, 70))
        return Palette(*warm, accent=accent, subject=(70, 92, 120), ink=(40, 30, 30))
    bold = _BOLD.search(words) is not None
    sky: tuple[RGB, RGB] = ((84, 132, 232), (190, 222, 250)) if bold else ((168, 204, 238), (228, 238, 246))
    return Palette(sky, ((214, 206, 192), (176, 166, 150)), accent, (60, 92, 140), (30, 34, 44))


def read_scene(
    subject: str, setting: str, description: str, lighting: str, style: str, framing: float, seed: int
) -> Scene:
    """The scene of a shot: setting and subject kinds from the shot's and the brief's words."""
    setting_kind = _pick(_SETTINGS, setting, description, subject, default="outdoor")
    subject_kind = _pick(_SUBJECTS, subject, description, default="object")
    split = _SPLIT.search(f"{subject} {description}".lower()) is not None
    return Scene(setting_kind, subject_kind, _palette(lighting, style, seed), framing, split, seed)


# ---------------------------------------------------------------------- drawing


def _gradient(top: RGB, bottom: RGB, width: int, height: int) -> Image.Image:
    ramp = np.linspace(0.0, 1.0, max(1, height), dtype=np.float32)[:, None, None]
    rows = np.array(top, np.float32) * (1 - ramp) + np.array(bottom, np.float32) * ramp
    return Image.fromarray(np.broadcast_to(rows, (height, 1, 3)).astype(np.uint8), "RGB").resize(
        (width, height)
    )


def subject_middle(framing: float) -> float:
    """How far below the world's centre the subject's middle is, in frame heights."""
    return GROUND - SUBJECT_HEIGHT * framing / 2


def draw_world(scene: Scene, frame: tuple[int, int], *, with_subject: bool = True) -> Image.Image:
    """The shot's world: frame size × :data:`WORLD_MARGIN` (even sides), subject at the centre."""
    fw, fh = frame
    width, height = (2 * math.ceil(v * WORLD_MARGIN / 2) for v in frame)
    horizon = height // 2 + round(fh * HORIZON)
    pal = scene.palette
    image = _gradient(*pal.sky, width, horizon)
    canvas = Image.new("RGB", (width, height))
    canvas.paste(image, (0, 0))
    canvas.paste(_gradient(*pal.ground, width, height - horizon), (0, horizon))
    draw = ImageDraw.Draw(canvas)
    rng = np.random.default_rng(scene.seed)
    unit = min(fw, fh)
    paint = PAINTERS.get(scene.setting, PAINTERS["outdoor"])
    paint(Canvas(draw, rng, (width, height), horizon, unit, pal))
    if with_subject:
        sprite, (sx, sy) = draw_subject(scene, frame)
        canvas.paste(sprite, (width // 2 + sx, height // 2 + sy), sprite)
    return canvas


def draw_subject(scene: Scene, frame: tuple[int, int]) -> tuple[Image.Image, tuple[int, int]]:
    """The subject as an RGBA sprite and its top-left offset from the world's centre."""
    fw, fh = frame
    unit = min(fw, fh)
    tall = round(fh * SUBJECT_HEIGHT * scene.framing)
    box_w = round(min(fw * 0.9, tall * (2.4 if scene.split else 1.3)))
    sprite = Image.new("RGBA", (box_w, tall + unit // 40), (0, 0, 0, 0))
    draw = ImageDraw.Draw(sprite)
    shape = scene.subject if scene.subject in SHAPES else "object"
    base = tall - 1
    draw.ellipse((box_w * 0.1, base - tall * 0.06, box_w * 0.9, base + tall * 0.02), fill=(0, 0, 0, 60))
    if scene.split:
        half = box_w // 2
        height = min(tall * 0.8, half * 0.9 / SHAPE_WIDTHS.get(shape, 1.0))  # two must fit side by side
        draw_shape(draw, shape, (half // 2, base), height, scene.palette, variant=0)
        draw_shape(draw, shape, (half + half // 2, base), height, scene.palette, variant=1)
        draw.line(
            (half, base - height * 1.05, half, base),
            fill=(*scene.palette.ink, 255),
            width=max(2, unit // 180),
        )
    else:
        height = min(tall * 0.92, box_w * 0.95 / SHAPE_WIDTHS.get(shape, 1.0))
        draw_shape(draw, shape, (box_w // 2, base), height, scene.palette, variant=0)
    return sprite, (-box_w // 2, round(fh * GROUND) - tall)
