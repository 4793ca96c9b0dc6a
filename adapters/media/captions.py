"""Captions from the script's timings: WebVTT and SRT files written by pysubs2, and their checks.

Each narration line becomes one or more cues inside the time its voice speaks (or, with
no voice, inside its shot), split at word boundaries into at most two lines of about 42
characters (the common broadcast and web limit); scripts without spaces (Chinese,
Japanese) split by characters, 16 to a line. Time is shared between a line's cues in
proportion to their characters, which is how speech spends it, near enough.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pysubs2

from adapters.media.qc import Finding, clock

CAPTIONS = "captions"
LINE_CHARS, LINE_CHARS_CJK, LINES = 42, 16, 2
MIN_CUE = 0.7  # seconds: shorter cues flash past unread


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str  # lines joined by "\n"


@dataclass(frozen=True)
class TimedLine:
    """A script line and the span it is spoken in, in seconds of the clip."""

    shot: int
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Captions:
    vtt: Path
    srt: Path
    language: str
    machine_translated: bool
    cues: tuple[Cue, ...]


def cues_for(lines: Sequence[TimedLine]) -> list[Cue]:
    """Cues for every line, each inside its line's span."""
    cues: list[Cue] = []
    for line in lines:
        chunks = _chunks(line.text)
        if not chunks:
            continue
        total = sum(len(c) for c in chunks)
        at, span = line.start, line.end - line.start
        for chunk in chunks:
            length = span * len(chunk) / total
            cues.append(Cue(round(at, 3), round(at + length, 3), "\n".join(_lines(chunk))))
            at += length
    return cues


def write_captions(
    cues: Sequence[Cue], stem: Path, *, language: str, machine_translated: bool = False
) -> Captions:
    """Write ``<stem>.<language>.vtt`` and ``.srt``."""
    subs = pysubs2.SSAFile()
    for cue in cues:
        text = cue.text.replace("\n", r"\N")
        subs.append(pysubs2.SSAEvent(start=round(cue.start * 1000), end=round(cue.end * 1000), text=text))
    stem.parent.mkdir(parents=True, exist_ok=True)
    vtt, srt = (stem.with_name(f"{stem.name}.{language}.{kind}") for kind in ("vtt", "srt"))
    subs.save(str(vtt), format_="vtt")
    subs.save(str(srt), format_="srt")
    return Captions(vtt, srt, language, machine_translated, tuple(cues))


def check_captions(cues: Sequence[Cue], clip_seconds: float) -> list[Finding]:
    """Cues must lie inside the clip, in order, without overlapping."""
    found = []
    for i, cue in enumerate(cues):
        if cue.start < 0 or cue.end > clip_seconds + 0.001:
            message = f"a caption at {clock(cue.start)} runs past the clip's {clip_seconds:.1f} s"
            found.append(Finding(CAPTIONS, cue.start, cue.end - cue.start, False, message))
        elif i and cue.start < cues[i - 1].end - 0.001:
            message = f"captions overlap at {clock(cue.start)}"
            found.append(Finding(CAPTIONS, cue.start, cue.end - cue.start, False, message))
    return found


def _chunks(text: str) -> list[str]:
    """The text in pieces that fit one cue, broken at sentence ends where possible."""
    text = " ".join(text.split())
    if not text:
        return []
    spaced = " " in text or len(text) <= LINE_CHARS_CJK
    limit = (LINE_CHARS if spaced else LINE_CHARS_CJK) * LINES
    pieces: list[str] = []
    for sentence in re.split(r"(?<=[.!?。！？])\s*", text):
        sentence = sentence.strip()
        while len(sentence) > limit:
            # even pieces: never a lone word or a lone full stop in a cue of its own
            parts = -(-len(sentence) // limit)
            target = -(-len(sentence) // parts)
            cut = target
            if spaced:
                spaces = [i for i, c in enumerate(sentence[: limit + 1]) if c == " "]
                cut = min(spaces, key=lambda i: abs(i - target)) if spaces else limit
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    return pieces


def _lines(chunk: str) -> list[str]:
    """One cue's text on at most two balanced lines."""
    spaced = " " in chunk
    width = LINE_CHARS if spaced else LINE_CHARS_CJK
    if len(chunk) <= width:
        return [chunk]
    if not spaced:
        middle = (len(chunk) + 1) // 2
        return [chunk[:middle], chunk[middle:]]
    middle = len(chunk) // 2
    spaces = [i for i, c in enumerate(chunk) if c == " "]
    split = min(spaces, key=lambda i: abs(i - middle))
    return [chunk[:split], chunk[split + 1 :]]
