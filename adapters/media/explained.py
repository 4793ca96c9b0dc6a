"""An explainer's voice and captions for a single clip: spoken before the pool pass, mixed and
written in it.

:func:`explain` speaks the brief's script per shot (a TTS API is I/O, so it runs on the event
loop); :func:`finish_explainer` runs in the post-processor's pool between the watermark pass
and signing: it mixes the voice under the clip (burning captions in on request), checks the
fit, the loudness and the captions, and writes the WebVTT and SRT files beside the clip — a
translated pair too, marked machine-translated. A voice that cannot be made never stops the
clip: it goes out with captions and a note.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.media.captions import Captions, TimedLine, check_captions, cues_for, write_captions
from adapters.media.narrated import mix_narration, spans_of
from adapters.media.narration import LEAD_IN, TAIL, Narration, ScriptLine, check_mix, narrate
from adapters.media.provenance import Ingredient, sha256_file
from adapters.media.qc import Finding
from adapters.media.speech import SpeechSynthesizer
from adapters.media.stitch import ShotSpan
from bot import texts
from bot.domain import Brief, Render, VideoRequest
from bot.explainers import Translation

log = logging.getLogger(__name__)
MACHINE_NOTE = "NOTE Machine-translated captions: check them before relying on them."


@dataclass(frozen=True)
class ExplainerTrack:
    """What :func:`explain` made before the pool pass: the narration and how to caption it."""

    narration: Narration
    spans: tuple[ShotSpan, ...]
    captions: str  # "on", "burn", "off" or a language tag (files, plus a translation)
    language: str
    translation: Translation | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Explained:
    """What :func:`finish_explainer` wrote."""

    clip: Path
    findings: tuple[Finding, ...]
    ingredients: tuple[Ingredient, ...]
    captions: tuple[Captions, ...]
    notes: tuple[str, ...]
    loudness_lufs: float | None
    track: ExplainerTrack

    @property
    def attachments(self) -> tuple[Path, ...]:
        return tuple(p for c in self.captions for p in (c.vtt, c.srt))

    def sidecar(self) -> dict[str, Any]:
        narration = self.track.narration
        return {
            "narration": [
                {"shot": v.shot, "engine": s.engine, "voice": s.voice, "seconds": s.seconds}
                for v, s in zip(narration.voices, narration.speeches, strict=True)
            ],
            "captions": [
                {
                    "vtt": c.vtt.name,
                    "srt": c.srt.name,
                    "language": c.language,
                    "machine_translated": c.machine_translated,
                    # the approval covers these files too: the sealed sidecar carries their hashes
                    "sha256": {c.vtt.name: sha256_file(c.vtt), c.srt.name: sha256_file(c.srt)},
                }
                for c in self.captions
            ],
            "captions_burned": self.track.captions == "burn",
            "loudness_lufs": self.loudness_lufs,
            "attachments": [p.name for p in self.attachments],
            "notes": list(self.notes),
        }


async def explain(
    brief: Brief,
    request: VideoRequest,
    render: Render,
    speech: SpeechSynthesizer | None,
    workdir: Path,
    spans: tuple[ShotSpan, ...] | None = None,
) -> ExplainerTrack:
    """Speak ``brief``'s script, one line per shot, placed at the shots of ``render``'s clip.

    ``spans``: where the shots sit (a cut's planned spans); by default the brief's timing
    scaled to the render's length (a provider's nearest length).
    """
    explainer = brief.explainer
    assert explainer is not None
    if spans is None:
        scale = render.seconds / brief.seconds if brief.seconds else 1.0
        spans = spans_of([s.seconds * scale for s in brief.shots])
    script = [ScriptLine(i, line) for i, line in enumerate(explainer.script, start=1) if i <= len(spans)]
    captions = request.options.captions or "on"
    notes: list[str] = []
    if speech is None:
        narration = captions_only(script, spans)
    else:
        try:
            narration = await narrate(script, spans, speech, workdir, language=explainer.language)
        except Exception:  # a system error: the clip still goes out, with captions and a note
            log.exception("narration of render %s failed", render.id)
            narration = captions_only(script, spans, texts.NARRATION_FAILED)
        if narration.note is not None:
            log.warning("render %s: %s", render.id, narration.note)
            voiceless = narration.note.startswith("No voice")
            notes.append(texts.no_voice(explainer.language) if voiceless else texts.NARRATION_FAILED)
    translation = explainer.translation if captions not in ("on", "burn", "off") else None
    if captions not in ("on", "burn", "off", explainer.language) and translation is None:
        notes.append(texts.no_translation(captions))
    return ExplainerTrack(narration, spans, captions, explainer.language, translation, tuple(notes))


def captions_only(
    script: list[ScriptLine], spans: tuple[ShotSpan, ...], note: str | None = None
) -> Narration:
    """No voice: each line captioned over its whole shot."""
    where = {s.index: s for s in spans}
    lines = tuple(
        TimedLine(s.shot, s.text, where[s.shot].start + LEAD_IN, where[s.shot].end - TAIL)
        for s in script
        if s.text.strip()
    )
    return Narration((), (), lines, (), note)


def finish_explainer(
    track: ExplainerTrack,
    current: Path,
    narrated: Path,
    final: Path,
    *,
    seconds: float,
    already_burned: bool = False,
) -> Explained:
    """Mix, check and caption (blocking; the post-processor's pool runs it before signing).

    ``already_burned``: ``current`` is a filed clip whose captions are in the picture already
    (Retry narration), so only the voice is added and the picture is copied as it is.
    """
    narration = track.narration
    cues = narration.cues()
    burn = cues if track.captions == "burn" and not already_burned else []
    clip, loudness = current, None
    if narration.voices or burn:
        spans = {s.index: s for s in track.spans}
        loudness = mix_narration(current, narrated, narration.voices, spans, seconds=seconds, burn=burn)
        clip = narrated
    findings = [
        *narration.findings,
        *check_mix(loudness, narrated=bool(narration.voices)),
        *check_captions(cues, seconds),
    ]
    written: list[Captions] = []
    notes = list(track.notes)
    stem = final.with_suffix("")
    if track.captions != "off" and cues:
        written.append(write_captions(cues, stem, language=track.language))
        translated = translated_captions(track, stem)
        if translated is not None:
            written.append(translated)
            notes.append(texts.machine_translated(translated.language))
    ingredients = tuple(
        Ingredient(
            speech.path, f"narration of shot {voice.shot}", "audio/wav", speech.source_type, speech.engine
        )
        for voice, speech in zip(narration.voices, narration.speeches, strict=True)
    )
    lufs = loudness.integrated if loudness is not None else None
    return Explained(clip, tuple(findings), ingredients, tuple(written), tuple(notes), lufs, track)


def translated_captions(track: ExplainerTrack, stem: Path) -> Captions | None:
    """The translation's captions, timed like the script's lines, marked machine-translated."""
    if track.translation is None or track.captions == "off":
        return None
    lines = track.translation.lines
    timed = [
        TimedLine(line.shot, lines[line.shot - 1], line.start, line.end)
        for line in track.narration.lines
        if line.shot <= len(lines) and lines[line.shot - 1].strip()
    ]
    if not timed:
        return None
    language = track.translation.language
    translated = write_captions(cues_for(timed), stem, language=language, machine_translated=True)
    _mark_machine_translated(translated.vtt)
    return translated


def _mark_machine_translated(vtt: Path) -> None:
    """A WebVTT NOTE block after the header: players ignore it, people reading the file see it."""
    text = vtt.read_text(encoding="utf-8")
    head, _, rest = text.partition("\n\n")
    vtt.write_text(f"{head}\n\n{MACHINE_NOTE}\n\n{rest}", encoding="utf-8")
