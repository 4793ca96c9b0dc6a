"""Explainer clips: a narration script split per shot, its key terms and one learning goal.

A teacher's explainer is half pictures, half words. The words live here: one script line per
shot (what the narrator says while that shot plays), paced so a line fits its shot at a
classroom speaking rate, the terms a pupil should leave with, and a one-line goal. Captions
in another language are a machine translation of the same lines, marked as such.

Pure rules (no I/O): the refiners write an :class:`Explainer`, the post-processor speaks and
captions it, the views show it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

WORDS_PER_SECOND = 2.5  # 150 words a minute: unhurried, for pupils and second-language readers
CJK_CHARS_PER_SECOND = 4.0  # Chinese and Japanese are read and spoken by the character
LEAD_IN, TAIL = 0.25, 0.2  # quiet before and after each shot's line (as the narration mixer places it)
CAPTION_MODES = ("on", "burn", "off")  # files beside the clip; files + burned in; none
# The verb, not the noun: "explain X" asks for the words too; "an explainer of X" stays a picture
# (storyboard) unless --audience or --captions asks for the words.
_EXPLAIN_LEAD = re.compile(
    r"^\s*(?:please\s+)?(?:(?:can|could)\s+you\s+)?(?:explain|teach(?:\s+me)?)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Translation:
    """The script in another language, for captions; always a machine translation."""

    language: str
    lines: tuple[str, ...]
    machine_translated: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"language": self.language, "lines": list(self.lines), "machine_translated": True}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Translation:
        return cls(str(data["language"]), tuple(str(x) for x in data.get("lines") or ()))


@dataclass(frozen=True)
class Explainer:
    """The words of an explainer brief.

    Args:
        script: one narration line per shot, in shot order ("" leaves a shot silent).
        key_terms: the terms the clip teaches.
        goal: one line: what the viewer should be able to do afterwards.
        audience: who it is for ("age 14"), as asked.
        language: the script's language (BCP 47).
        outline_only: written offline from the ask's own words; a real script needs the LLM.
        translation: the captions' other language, when one was asked for and could be made.
    """

    script: tuple[str, ...]
    key_terms: tuple[str, ...] = ()
    goal: str = ""
    audience: str = ""
    language: str = "en"
    outline_only: bool = False
    translation: Translation | None = None
    shortened: tuple[int, ...] = ()  # shots whose line was cut to fit

    def to_dict(self) -> dict[str, Any]:
        return {
            "script": list(self.script),
            "key_terms": list(self.key_terms),
            "goal": self.goal,
            "audience": self.audience,
            "language": self.language,
            "outline_only": self.outline_only,
            "translation": self.translation.to_dict() if self.translation else None,
            "shortened": list(self.shortened),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Explainer:
        translation = data.get("translation")
        return cls(
            script=tuple(str(x) for x in data.get("script") or ()),
            key_terms=tuple(str(x) for x in data.get("key_terms") or ()),
            goal=str(data.get("goal") or ""),
            audience=str(data.get("audience") or ""),
            language=str(data.get("language") or "en"),
            outline_only=bool(data.get("outline_only")),
            translation=Translation.from_dict(translation) if translation else None,
            shortened=tuple(int(x) for x in data.get("shortened") or ()),
        )

    def with_script(self, script: tuple[str, ...]) -> Explainer:
        """The same explainer speaking new lines; a translation of the old lines no longer holds."""
        return replace(self, script=script, translation=None, outline_only=False, shortened=())


@dataclass(frozen=True)
class Overrun:
    """A script line that needs more time than its shot gives it."""

    shot: int
    needs: float
    has: float


@dataclass(frozen=True)
class Pacing:
    overruns: tuple[Overrun, ...] = field(default_factory=tuple)

    @property
    def fits(self) -> bool:
        return not self.overruns


def is_explainer_ask(text: str) -> bool:
    """An ask that opens with the verb: "explain …", "teach me …", "can you explain …"."""
    return bool(_EXPLAIN_LEAD.match(text))


def _cjk(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F") and char.isalpha()


def speaking_seconds(text: str) -> float:
    """How long ``text`` takes to say at a classroom pace (words, or characters for CJK)."""
    cjk = sum(1 for c in text if _cjk(c))
    words = len(re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|\d+", "".join(" " if _cjk(c) else c for c in text)))
    return words / WORDS_PER_SECOND + cjk / CJK_CHARS_PER_SECOND


def room(shot_seconds: float) -> float:
    """The time a shot leaves for speech once the narrator has breathed in and out."""
    return max(0.0, shot_seconds - LEAD_IN - TAIL)


def word_budget(shot_seconds: float) -> int:
    """The most words a line may have to fit a shot of this length (at least one)."""
    return max(1, int(room(shot_seconds) * WORDS_PER_SECOND))


def pacing(script: tuple[str, ...], shot_seconds: list[float]) -> Pacing:
    """Which lines are too long for their shots."""
    overruns = tuple(
        Overrun(i + 1, round(speaking_seconds(line), 2), round(room(seconds), 2))
        for i, (line, seconds) in enumerate(zip(script, shot_seconds, strict=False))
        if speaking_seconds(line) > room(seconds) + 0.05
    )
    return Pacing(overruns)


def shorten(line: str, shot_seconds: float) -> str:
    """``line`` cut to what fits its shot: whole sentences first, else whole words (never mid-word)."""
    if speaking_seconds(line) <= room(shot_seconds) + 0.05:
        return line
    sentences = [s for s in re.split(r"(?<=[.!?。！？])\s*", line.strip()) if s]
    kept = ""
    for sentence in sentences:
        candidate = f"{kept} {sentence}".strip()
        if speaking_seconds(candidate) > room(shot_seconds) + 0.05:
            break
        kept = candidate
    if kept:
        return kept
    if " " not in line.strip():  # CJK: by characters
        limit = max(1, int(room(shot_seconds) * CJK_CHARS_PER_SECOND))
        return line.strip()[:limit]
    words = line.split()[: word_budget(shot_seconds)]
    return " ".join(words).rstrip(",;:") + "…"


def script_lines_from_form(text: str, shots: int) -> tuple[str, ...]:
    """An Edit script form's text (one line per shot, "1." numbering optional) as ``shots`` lines."""
    rows = [
        re.sub(r"^\s*(?:shot\s*)?\d+\s*[.):-]\s*", "", row, flags=re.IGNORECASE).strip()
        for row in text.splitlines()
    ]
    rows = [row for row in rows if row]
    if len(rows) > shots:  # more lines than shots: the last shot says the rest
        rows = [*rows[: shots - 1], " ".join(rows[shots - 1 :])]
    return tuple(rows + [""] * (shots - len(rows)))


def script_form_text(script: tuple[str, ...]) -> str:
    """The script as an Edit script form shows it: one numbered line per shot."""
    return "\n".join(f"{i}. {line}" for i, line in enumerate(script, start=1))
