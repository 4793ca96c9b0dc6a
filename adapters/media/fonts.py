"""Fonts that cover Latin, Chinese/Japanese/Korean and emoji, and text drawn with per-glyph fallback.

Pillow draws a string with one font, and no single font covers every script: Noto Sans has no
ideographs, Noto Sans CJK no emoji. So a :class:`FontStack` splits text into runs by which font
has each character (read from the fonts' ``cmap`` tables with fontTools) and draws each run with
its own font on a shared baseline. The animatic draws its cards with it, and captions burned
into clips will too.

Where the fonts come from, in order: the ``manimgx-fonts`` and ``manimgx-fonts-cjk`` wheels
(unmodified Noto under the OFL, installed from PyPI with clipdesk, so a fresh machine needs
nothing else), then the system's font folders (Debian's ``fonts-noto-core``, ``fonts-noto-cjk``,
``fonts-dejavu-core``), then Pillow's built-in font as the last resort (Latin only).
"""

from __future__ import annotations

import functools
import logging
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import util
from pathlib import Path

import numpy as np
from fontTools.ttLib import TTCollection, TTFont
from PIL import Image, ImageDraw, ImageFont, features

log = logging.getLogger(__name__)

Color = tuple[int, int, int, int]
WHITE: Color = (255, 255, 255, 255)
# Noto Sans CJK shapes a shared ideograph the way one region writes it; Simplified Chinese first.
CJK_REGIONS = ("SC", "TC", "HK", "JP", "KR")
_SYSTEM_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path.home() / ".fonts",
)
# file name in a system font folder -> (face name, role); roles order the fallback chain
_SYSTEM_FILES = {
    "NotoSans-Regular.ttf": ("Noto Sans", "latin"),
    "NotoSansCJK-Regular.ttc": ("Noto Sans CJK", "cjk"),
    "NotoSansSymbols-Regular.ttf": ("Noto Sans Symbols", "symbols"),
    "NotoEmoji-Regular.ttf": ("Noto Emoji", "emoji"),
    "DejaVuSans.ttf": ("DejaVu Sans", "last-resort"),
}
_ROLES = ("latin", "cjk", "symbols", "emoji", "script", "last-resort")


@dataclass(frozen=True)
class FontFace:
    """One face of one font file (``index`` picks a face inside a .ttc collection)."""

    name: str
    path: Path
    role: str
    index: int = 0


@dataclass(frozen=True)
class TextRun:
    """Consecutive characters drawn with one font."""

    text: str
    font: ImageFont.FreeTypeFont


# ------------------------------------------------------------------ finding the fonts


@functools.cache
def font_faces() -> tuple[FontFace, ...]:
    """The fallback chain: the packaged Noto fonts first, then system fonts, Latin first."""
    faces = [*_packaged_faces(), *_system_faces()]
    seen: set[str] = set()
    unique = []
    for face in sorted(faces, key=lambda f: _ROLES.index(f.role)):  # stable: packaged before system
        if face.name not in seen:
            seen.add(face.name)
            unique.append(face)
    if not any(f.role == "cjk" for f in unique):
        log.warning("no CJK font found: Chinese, Japanese and Korean text will show as boxes")
    return tuple(unique)


def _package_dir(name: str) -> Path | None:
    spec = util.find_spec(name)
    return Path(spec.origin).parent if spec and spec.origin else None


def _packaged_faces() -> Iterator[FontFace]:
    latin = _package_dir("manimgx_fonts")
    if latin is not None:
        yield FontFace("Noto Sans", latin / "NotoSans[wght].ttf", "latin")
        yield FontFace("Noto Sans Symbols", latin / "NotoSansSymbols[wght].ttf", "symbols")
        yield FontFace("Noto Emoji", latin / "NotoEmoji[wght].ttf", "emoji")
        for path in sorted(latin.glob("NotoSans?*[[]wght[]].ttf")):
            if not path.name.startswith(("NotoSans-", "NotoSansSymbols")):
                yield FontFace(path.name.split("[")[0], path, "script")
    cjk = _package_dir("manimgx_fonts_cjk")
    if cjk is not None:
        path = cjk / "NotoSansCJK-VF.otf.ttc"
        yield FontFace("Noto Sans CJK", path, "cjk", _cjk_index(path))


def _system_faces() -> Iterator[FontFace]:
    for folder in _SYSTEM_DIRS:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.tt[fc]")):
            if path.name in _SYSTEM_FILES:
                name, role = _SYSTEM_FILES[path.name]
                yield FontFace(name, path, role, _cjk_index(path) if role == "cjk" else 0)


def _cjk_index(path: Path) -> int:
    """The face of a Noto CJK collection for the first region of :data:`CJK_REGIONS` it has."""
    names = [f["name"].getDebugName(1) or "" for f in TTCollection(str(path), lazy=True).fonts]
    for region in CJK_REGIONS:
        for index, name in enumerate(names):
            if name.endswith(f" {region}"):
                return index
    return 0


@functools.cache
def coverage(face: FontFace) -> frozenset[int]:
    """The code points ``face`` has glyphs for (its best cmap), read once per process."""
    font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
    return frozenset(font.getBestCmap() or {})


# ------------------------------------------------------------------ the stack


class FontStack:
    """The fallback chain at one size and weight; use :func:`load_fonts` to get a cached one."""

    def __init__(self, size: int, weight: int = 500, faces: tuple[FontFace, ...] | None = None) -> None:
        self.size = size
        self.weight = weight
        self.faces = font_faces() if faces is None else faces
        self._fonts: dict[FontFace, ImageFont.FreeTypeFont] = {}
        self._fallback: ImageFont.FreeTypeFont | None = None
        metrics = [self.font(f).getmetrics() for f in self.faces if f.role in ("latin", "cjk")]
        metrics = metrics or [self._first().getmetrics()]
        self.ascent = max(a for a, _ in metrics)
        self.descent = max(d for _, d in metrics)

    @property
    def line_height(self) -> int:
        """Baseline-to-baseline distance for lines of this stack."""
        return self.ascent + self.descent + round(self.size * 0.12)

    def font(self, face: FontFace) -> ImageFont.FreeTypeFont:
        """The Pillow font of ``face`` at this size, weight set on variable fonts."""
        if face not in self._fonts:
            engine = ImageFont.Layout.RAQM if features.check_feature("raqm") else ImageFont.Layout.BASIC
            font = ImageFont.truetype(str(face.path), self.size, index=face.index, layout_engine=engine)
            try:
                axis = font.get_variation_axes()[0]
                low, high = axis["minimum"] or self.weight, axis["maximum"] or self.weight
                font.set_variation_by_axes([min(max(self.weight, low), high)])
            except OSError:
                pass  # not a variable font: its one weight it is
            self._fonts[face] = font
        return self._fonts[face]

    def _first(self) -> ImageFont.FreeTypeFont:
        if self.faces:
            return self.font(self.faces[0])
        if self._fallback is None:
            font = ImageFont.load_default(self.size)
            assert isinstance(font, ImageFont.FreeTypeFont), "needs Pillow with FreeType"
            self._fallback = font
        return self._fallback

    def runs(self, text: str) -> list[TextRun]:
        """Split ``text`` into runs, each in the first font that has its characters."""
        runs: list[TextRun] = []
        chosen: FontFace | None = None
        for cluster in clusters(text):
            face = chosen if cluster.isspace() and chosen is not None else self._face_for(cluster)
            shown = _drawable(cluster, face)
            if runs and face == chosen:
                runs[-1] = TextRun(runs[-1].text + shown, runs[-1].font)
            else:
                font = self.font(face) if face is not None else self._first()
                runs.append(TextRun(shown, font))
            chosen = face
        return runs

    def _face_for(self, cluster: str) -> FontFace | None:
        base = ord(cluster[0])
        wants_emoji = "\ufe0f" in cluster or 0x1F000 <= base <= 0x1FAFF
        order = sorted(self.faces, key=lambda f: f.role != "emoji") if wants_emoji else self.faces
        for face in order:
            if base in coverage(face):
                return face
        return self.faces[0] if self.faces else None  # nobody has it: the first font's box

    def missing(self, text: str) -> str:
        """The characters of ``text`` that no font of the stack has (they would show as boxes)."""
        covered = set().union(*(coverage(f) for f in self.faces)) if self.faces else set()
        return "".join(c for c in dict.fromkeys(text) if not _invisible(c) and ord(c) not in covered)

    def measure(self, text: str) -> float:
        """The advance width of ``text`` in pixels."""
        return sum(run.font.getlength(run.text) for run in self.runs(text))

    def draw(self, image: Image.Image, xy: tuple[float, float], text: str, fill: Color = WHITE) -> float:
        """Draw one line with its line box's top-left at ``xy``; return the advance width."""
        draw = ImageDraw.Draw(image)
        x, baseline = xy[0], xy[1] + self.ascent
        for run in self.runs(text):
            draw.text((x, baseline), run.text, fill=fill, font=run.font, anchor="ls")
            x += run.font.getlength(run.text)
        return x - xy[0]

    def render(self, text: str, fill: Color = WHITE) -> np.ndarray:
        """One line of text as an RGBA array (height: one line box; transparent elsewhere)."""
        width = max(1, round(self.measure(text)) + self.size // 4)
        image = Image.new("RGBA", (width, self.ascent + self.descent), (0, 0, 0, 0))
        self.draw(image, (0, 0), text, fill)
        return np.asarray(image)

    def wrap(self, text: str, max_width: float) -> list[str]:
        """Greedy line breaks within ``max_width``: at spaces, and between CJK characters.

        Widths add up token by token (one measure per token, not per prefix); only a line that
        comes within two pixels of the limit is measured whole, where kerning could tip it over.
        """
        lines: list[str] = []
        current, width = "", 0.0  # width of ``current`` including its trailing spaces
        for unit in _break_units(text):
            token = unit if current else unit.lstrip()
            word = self.measure(token.rstrip())
            if current:
                fits = width + word
                if fits > max_width - 2:
                    fits = self.measure((current + token).rstrip())
                if fits > max_width:
                    lines.append(current.rstrip())
                    current, width, token = "", 0.0, token.lstrip()
            if not current and word > max_width:  # one unit wider than a line: break inside it
                while len(token.rstrip()) > 1 and self.measure(token.rstrip()) > max_width:
                    cut = _longest_prefix(self, token, max_width)
                    lines.append(token[:cut])
                    token = token[cut:]
            current, width = current + token, width + self.measure(token)
        if current.strip() or not lines:
            lines.append(current.rstrip())
        return lines


_LOCAL = threading.local()  # FreeType faces are not safe to share between threads


def load_fonts(size: int, weight: int = 500) -> FontStack:
    """The font stack at ``size`` pixels and ``weight`` (100–900), cached per thread."""
    cache: dict[tuple[int, int], FontStack] = _LOCAL.__dict__.setdefault("stacks", {})
    key = (size, weight)
    if key not in cache:
        cache[key] = FontStack(size, weight)
    return cache[key]


# ------------------------------------------------------------------ text units


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Me", "Cf") or 0xFE00 <= ord(char) <= 0xFE0F


def clusters(text: str) -> Iterator[str]:
    """User-perceived characters, roughly: a base with its marks, selectors and ZWJ sequences."""
    current = ""
    for char in text:
        point = ord(char)
        joins = bool(current) and (
            _invisible(char)
            or 0x1F3FB <= point <= 0x1F3FF  # skin tone
            or 0xE0020 <= point <= 0xE007F  # tag sequence (subdivision flags)
            or current.endswith("\u200d")
            or (0x1F1E6 <= point <= 0x1F1FF and len(current) == 1 and 0x1F1E6 <= ord(current) <= 0x1F1FF)
        )
        if joins:
            current += char
        else:
            if current:
                yield current
            current = char
    if current:
        yield current


def _drawable(cluster: str, face: FontFace | None) -> str:
    """Drop joiners and selectors the chosen font lacks, so they never show as boxes."""
    if face is None:
        return cluster
    have = coverage(face)
    return cluster[0] + "".join(c for c in cluster[1:] if not _invisible(c) or ord(c) in have)


def _wide(cluster: str) -> bool:
    return unicodedata.east_asian_width(cluster[0]) in ("W", "F") or ord(cluster[0]) >= 0x1F000


def _break_units(text: str) -> Iterator[str]:
    """Pieces a line may break after: a word with its trailing spaces, or one wide character.

    Closing punctuation (。，、！？ and the like) stays with the character before it.
    """
    unit = ""
    for cluster in clusters(" ".join(text.split())):
        closing = unicodedata.category(cluster[0]) in ("Pe", "Pf", "Po") and _wide(cluster)
        if closing or (cluster == " "):
            unit += cluster
            continue
        if _wide(cluster) or (unit and unit[-1] == " ") or (unit and _wide(unit[-1])):
            if unit:
                yield unit
            unit = cluster
        else:
            unit += cluster
    if unit:
        yield unit


def _longest_prefix(stack: FontStack, text: str, max_width: float) -> int:
    cut = len(text) - 1
    while cut > 1 and stack.measure(text[:cut]) > max_width:
        cut -= 1
    return max(1, cut)
