"""Narration of a cut: a voice line per shot that fits its shot, the captions of what is said,
and the checks of both and of the final mix.

:func:`narrate` speaks each shot's script line with a :class:`SpeechSynthesizer`, a short
breath after the shot starts; a line that would run past its shot is spoken again a
little faster (up to :data:`MAX_SPEEDUP`), and one that still does not fit is reported,
never cut off mid-word. A language with no voice, or an engine that fails, leaves
captions only and a note saying why, so the clip is still delivered. The placed voice
lines go to :func:`adapters.media.stitch.stitch` (``StitchOptions.narration``), which
mixes them in the same pass; :func:`check_mix` judges the mix's loudness it measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters.media.captions import Cue, TimedLine, cues_for
from adapters.media.loudness import Loudness
from adapters.media.qc import Finding, clock
from adapters.media.speech import Speech, SpeechFailed, SpeechSynthesizer, VoiceUnavailable
from adapters.media.stitch import ShotSpan, VoiceLine

NARRATION_FIT, LOUDNESS, CLIPPING = "narration_fit", "loudness", "clipping"
LEAD_IN, TAIL = 0.25, 0.2  # seconds of quiet at the start and end of each shot's line
MAX_SPEEDUP = 1.25  # faster than this stops sounding natural
LOUDNESS_RANGE = (-20.0, -12.0)  # LUFS, integrated: around the -16 of web and mobile speech
CLIPPED_SHARE = 0.0001  # of samples at full scale: more is audible distortion


@dataclass(frozen=True)
class ScriptLine:
    """What the narrator says over one shot."""

    shot: int
    text: str


@dataclass(frozen=True)
class Narration:
    """The narration of a cut, ready to mix and to caption.

    ``voices`` go to ``StitchOptions.narration``; ``lines`` to :func:`captions.cues_for`;
    ``note`` says why there is no voice (captions only), when there is none.
    """

    voices: tuple[VoiceLine, ...]
    speeches: tuple[Speech, ...]
    lines: tuple[TimedLine, ...]
    findings: tuple[Finding, ...]
    note: str | None = None

    def cues(self) -> list[Cue]:
        return cues_for(self.lines)


async def narrate(
    script: Sequence[ScriptLine],
    spans: Sequence[ShotSpan],
    synthesizer: SpeechSynthesizer,
    workdir: Path,
    *,
    language: str = "en",
    voice: str | None = None,
) -> Narration:
    """Speak ``script`` for the shots at ``spans`` (from :func:`stitch.planned_spans`)."""
    where = {span.index: span for span in spans}
    unknown = [line.shot for line in script if line.shot not in where]
    if unknown:
        raise ValueError(f"the script narrates shots the cut does not have: {unknown}")
    voices, speeches, lines, findings = [], [], [], []
    for line in script:
        if not line.text.strip():
            continue
        span = where[line.shot]
        room = span.end - span.start - LEAD_IN - TAIL
        try:
            speech = await _fitted(synthesizer, line, room, workdir, language, voice)
        except VoiceUnavailable as exc:
            return _captions_only(
                script, where, f"No voice speaks {language}, so the clip has captions only ({exc})."
            )
        except SpeechFailed as exc:
            note = f"The narration could not be made ({exc}); the clip has captions only. Retry narration?"
            return _captions_only(script, where, note)
        voices.append(VoiceLine(line.shot, speech.path, LEAD_IN))
        speeches.append(speech)
        start = span.start + LEAD_IN
        lines.append(TimedLine(line.shot, line.text, start, min(start + speech.seconds, span.end)))
        if speech.seconds > room + TAIL:
            over = speech.seconds - room - TAIL
            message = (
                f"the narration of shot {line.shot} runs {over:.1f} s past its shot (at {clock(span.end)})"
            )
            findings.append(Finding(NARRATION_FIT, span.end, over, False, message))
    return Narration(tuple(voices), tuple(speeches), tuple(lines), tuple(findings))


def _captions_only(script: Sequence[ScriptLine], where: dict[int, ShotSpan], note: str) -> Narration:
    """No voice: each line captioned over its whole shot, and the reason for the thread."""
    lines = tuple(
        TimedLine(s.shot, s.text, where[s.shot].start + LEAD_IN, where[s.shot].end - TAIL)
        for s in script
        if s.text.strip()
    )
    return Narration((), (), lines, (), note)


async def _fitted(
    synthesizer: SpeechSynthesizer,
    line: ScriptLine,
    room: float,
    workdir: Path,
    language: str,
    voice: str | None,
) -> Speech:
    dest = workdir / f"narration-shot{line.shot}.wav"
    speech = await synthesizer.synthesize(line.text, voice=voice, language=language, dest=dest)
    if speech.seconds > room > 0:
        speed = min(MAX_SPEEDUP, speech.seconds / room * 1.02)
        speech = await synthesizer.synthesize(
            line.text, voice=voice, language=language, dest=dest, speed=speed
        )
    return speech


def check_mix(loudness: Loudness | None, narrated: bool) -> list[Finding]:
    """A narrated mix must sit in :data:`LOUDNESS_RANGE`; no mix may clip."""
    found: list[Finding] = []
    if loudness is None:
        return found
    low, high = LOUDNESS_RANGE
    if narrated and not low <= loudness.integrated <= high:
        level = "quiet" if loudness.integrated < low else "loud"
        message = (
            f"the narrated sound is too {level}: {loudness.integrated:.1f} LUFS (aim {low:g} to {high:g})"
        )
        found.append(Finding(LOUDNESS, 0.0, loudness.seconds, False, message))
    if loudness.clipped_share > CLIPPED_SHARE:
        message = f"the sound clips: {loudness.clipped_share:.2%} of samples at full scale"
        found.append(Finding(CLIPPING, 0.0, loudness.seconds, False, message))
    return found
