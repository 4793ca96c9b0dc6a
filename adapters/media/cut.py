"""Finish a multi-shot cut: stitch + watermark + narration + QC in one pass, then C2PA and sidecar.

The manifest names each shot clip (and each narration voice) as an ingredient with its
own digital source type, so a reader sees the cut was assembled from generated shots
and which voice engine spoke; the sidecar lists shots with their place in the cut,
their QC and who made them, for tools that cannot read C2PA. Captions are written
beside the clip. Shot files are kept (a later cut version reuses the shots it does not
re-render); the caller discards them once the cut is approved or expires.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from adapters.media.captions import Captions, check_captions, write_captions
from adapters.media.narration import Narration, check_mix
from adapters.media.provenance import (
    Ingredient,
    ProvenanceFacts,
    SignedClip,
    SignerConfig,
    sha256_file,
    sign_clip,
    write_sidecar,
)
from adapters.media.qc import DURATION, Finding, QcLimits
from adapters.media.stitch import ShotClip, StitchedCut, StitchOptions, stitch
from adapters.media.watermark import Watermark


@dataclass(frozen=True)
class CutJob:
    """Everything needed to finish one version of a cut.

    Args:
        facts: the provenance facts; ``render_id`` is the cut version's id, ``source_type``
            how its shots were made.
        shots: the shot clips, in order.
        dest: where the finished cut goes (``<cut id>.mp4``).
        seconds: the length the user asked for (QC).
        shot_agents: per shot number, what made it ("veo/veo-3.1-generate-001").
        shot_facts: per shot number, facts for the sidecar (render id, provider, model, seed, cost).
        crossfade: seconds of crossfade between shots (0: hard cuts).
        narration: the voice lines and captions from :func:`narration.narrate`.
        language: the captions' language; ``machine_translated`` marks translated captions.
    """

    facts: ProvenanceFacts
    shots: tuple[ShotClip, ...]
    dest: Path
    seconds: float
    shot_agents: Mapping[int, str] = field(default_factory=dict)
    crossfade: float = 0.0
    narration: Narration | None = None
    language: str = "en"
    machine_translated: bool = False
    burn_captions: bool = False  # draw the narration's captions into the picture (--captions burn)
    write_captions: bool = True  # .vtt/.srt beside the cut (not with --captions off)
    shot_facts: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)  # provider, model, seed, cost


@dataclass(frozen=True)
class ProcessedCut:
    path: Path
    seconds: float
    findings: tuple[str, ...]
    hard_failure: bool
    provenance_digest: str
    stitched: StitchedCut
    captions: Captions | None = None
    note: str | None = None  # why there is no narration, when there is none


def finish_cut(
    job: CutJob,
    *,
    watermark: Watermark | None,
    signer: SignerConfig | None,
    limits: QcLimits | None = None,
) -> ProcessedCut:
    """Stitch, check, sign and file a cut (blocking; run it in a pool).

    Raises:
        ShotUnusable: a shot cannot be used; only that shot needs rendering again.
        MediaError: any other step failed.
    """
    narration = job.narration
    staged = job.dest.with_name(f".{job.dest.stem}.stitched.mp4")
    signed_path = job.dest.with_name(f".{job.dest.stem}.signed.mp4")
    options = StitchOptions(
        crossfade=job.crossfade,
        watermark=watermark,
        narration=narration.voices if narration else (),
        captions=tuple(narration.cues()) if narration and job.burn_captions else (),
        qc_limits=limits or QcLimits(),
    )
    try:
        cut = stitch(list(job.shots), staged, options)
        ingredients = _ingredients(job)
        signed: SignedClip | None = None
        if signer is not None:
            signed = sign_clip(staged, signed_path, job.facts, signer, ingredients)
            os.replace(signed_path, job.dest)
        else:
            os.replace(staged, job.dest)
    finally:
        staged.unlink(missing_ok=True)
        signed_path.unlink(missing_ok=True)
    cut = replace(cut, path=job.dest)
    findings = _findings(job, cut)
    captions = None
    if narration is not None and narration.lines and job.write_captions:
        cues = narration.cues()
        findings += check_captions(cues, cut.seconds)
        stem = job.dest.with_suffix("")
        translated = job.machine_translated
        captions = write_captions(cues, stem, language=job.language, machine_translated=translated)
    digest = signed.sha256 if signed else sha256_file(job.dest)
    label = SignedClip(job.dest, signed.manifest_label, digest) if signed else None
    write_sidecar(job.dest, job.facts, label, _sidecar(job, cut, findings, captions), ingredients)
    return ProcessedCut(
        path=job.dest,
        seconds=cut.seconds,
        findings=tuple(f.message for f in findings),
        hard_failure=any(f.hard for f in findings),
        provenance_digest=digest,
        stitched=cut,
        captions=captions,
        note=narration.note if narration else None,
    )


def _findings(job: CutJob, cut: StitchedCut) -> list[Finding]:
    """The cut's own findings, each shot's (named), the narration's fit and the mix's level."""
    found = list(cut.qc.findings)
    if abs(cut.seconds - job.seconds) > QcLimits().duration_tolerance:
        message = f"lasts {cut.seconds:.2f} s, {job.seconds:g} s were asked for"
        found.append(Finding(DURATION, 0.0, cut.seconds, False, message))
    for span in cut.shots:
        for finding in span.qc.findings if span.qc else ():
            message = f"shot {span.index} {finding.message.removeprefix('the clip ')}"
            found.append(replace(finding, start=span.start + finding.start, message=message))
    if job.narration is not None:
        found += job.narration.findings
    found += check_mix(cut.loudness, narrated=bool(job.narration and job.narration.voices))
    return found


def _ingredients(job: CutJob) -> list[Ingredient]:
    kind = job.facts.source_type
    shots = [
        Ingredient(s.path, f"shot {s.index}", "video/mp4", kind, job.shot_agents.get(s.index, ""))
        for s in job.shots
    ]
    voices = []
    if job.narration is not None:
        for speech, line in zip(job.narration.speeches, job.narration.voices, strict=True):
            title = f"narration of shot {line.shot}"
            voices.append(Ingredient(speech.path, title, "audio/wav", speech.source_type, speech.engine))
    return shots + voices


def _sidecar(
    job: CutJob, cut: StitchedCut, findings: list[Finding], captions: Captions | None
) -> dict[str, Any]:
    return {
        "seconds": cut.seconds,
        "qc": [asdict(f) for f in findings],
        "qc_hard_failure": any(f.hard for f in findings),
        "shots": [
            {
                "index": s.index,
                "start": s.start,
                "end": s.end,
                "agent": job.shot_agents.get(s.index, ""),
                "held_frames": s.held_frames,
                "colour_gains": s.colour_gains,
                **job.shot_facts.get(s.index, {}),
            }
            for s in cut.shots
        ],
        "loudness_lufs": cut.loudness.integrated if cut.loudness else None,
        "narration": [
            {"shot": v.shot, "engine": sp.engine, "voice": sp.voice, "seconds": sp.seconds}
            for v, sp in zip(job.narration.voices, job.narration.speeches, strict=True)
        ]
        if job.narration
        else [],
        "captions": _captions_facts(captions),
    }


def _captions_facts(captions: Captions | None) -> dict[str, Any] | None:
    if captions is None:
        return None
    return {
        "vtt": captions.vtt.name,
        "srt": captions.srt.name,
        "language": captions.language,
        "machine_translated": captions.machine_translated,
    }
