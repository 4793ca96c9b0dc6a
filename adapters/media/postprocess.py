"""The post-processor every clip goes through: watermark + QC in one pass → C2PA signature → sidecar.

One decode: the watermark pass hands QC the frames it decoded, before the mark goes
on, so QC's findings describe the provider's work, not ours, and the clip is decoded
and encoded once. Signing only rewrites the container. Everything runs in a pool,
never on the event loop.

One copy of each clip: the final (marked, signed) clip is the only one kept. The
provider's download is deleted once the final clip is filed, unless ``keep_original``
asks for it (the retention sweep then removes it with the other old downloads). A
worker that dies after filing and before recording the result finds the final clip
and its sidecar on the next attempt and returns them instead of failing on the
missing download.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.media.cut import CutJob, ProcessedCut, finish_cut
from adapters.media.explained import ExplainerTrack, explain, finish_explainer
from adapters.media.provenance import (
    Ingredient,
    ProvenanceFacts,
    SignedClip,
    SignerConfig,
    check_signer,
    sha256_file,
    sign_clip,
    write_sidecar,
)
from adapters.media.qc import QcLimits, QcReport, inspect_clip
from adapters.media.speech import SpeechSynthesizer
from adapters.media.watermark import (
    DEFAULT_TEXT,
    PREVIEW_TEXT,
    Undecodable,
    Watermark,
    burn_watermark,
    load_logo,
)
from bot.domain import Brief, Render, VideoRequest
from bot.errors import MediaError
from bot.ports import ProcessedClip, SourceType

log = logging.getLogger(__name__)


class MediaPostProcessor:
    """``bot.ports.PostProcessor`` with PyAV and c2pa-python.

    Args:
        output_dir: where finished clips go, as ``<render id>.mp4``, unless ``clip_path``
            says otherwise (e.g. ``media_store.clip_path(render.id)``).
        watermark_*: the visible mark; on by default. A bad logo or position fails here,
            at start-up, not on the first clip. ``watermark_preview_text`` replaces the
            text on renders of an ``algorithmicMedia`` provider (the storyboard animatic).
        cert_chain, private_key, signing_algorithm, tsa_url: the C2PA signer; signing is
            off when they are not given. An expired certificate fails here too.
        audio_for: whether a render was meant to have sound (for the missing-audio check).
        source_type_for: how the render's provider makes clips (its ``Capabilities.source_type``):
            the C2PA digital source type and the watermark's words follow it.
        keep_original: keep the provider's download after the final clip is filed.
        executor: the pool to run in; by default one thread of its own, because one
            encode already uses every core (see ``adapters.providers.animatic``).
    """

    def __init__(
        self,
        output_dir: Path,
        *,
        clip_path: Callable[[Render], Path] | None = None,
        watermark_enabled: bool = True,
        watermark_text: str | None = DEFAULT_TEXT,
        watermark_preview_text: str | None = PREVIEW_TEXT,
        watermark_logo: Path | None = None,
        watermark_position: str = "bottom-right",
        watermark_opacity: float = 0.7,
        cert_chain: Path | None = None,
        private_key: Path | None = None,
        signing_algorithm: str = "es256",
        tsa_url: str | None = None,
        audio_for: Callable[[Render], bool] | None = None,
        source_type_for: Callable[[Render], SourceType] | None = None,
        keep_original: bool = False,
        qc_limits: QcLimits | None = None,
        executor: concurrent.futures.Executor | None = None,
        speech: SpeechSynthesizer | None = None,
    ) -> None:
        self.output_dir = Path(output_dir)
        self.speech = speech  # narrates explainer briefs; None: explainers get captions only
        self._clip_path = clip_path or (lambda render: self.output_dir / f"{render.id}.mp4")
        self.watermark: Watermark | None = None
        self.preview_mark: Watermark | None = None
        if watermark_enabled:
            self.watermark = Watermark(watermark_text, watermark_logo, watermark_position, watermark_opacity)
            preview = watermark_preview_text or watermark_text
            self.preview_mark = Watermark(preview, watermark_logo, watermark_position, watermark_opacity)
            if watermark_logo is not None:
                load_logo(watermark_logo)
        self.signer: SignerConfig | None = None
        if (cert_chain is None) != (private_key is None):
            raise MediaError("C2PA signing needs both a certificate chain and a private key")
        if cert_chain is not None and private_key is not None:
            self.signer = SignerConfig(Path(cert_chain), Path(private_key), signing_algorithm, tsa_url)
            check_signer(self.signer)
        self._audio_for = audio_for or (lambda render: False)
        self._source_type_for = source_type_for or (lambda render: SourceType.TRAINED)
        self.keep_original = keep_original
        self._limits = qc_limits or QcLimits()
        self._executor = executor
        self._owns_executor = executor is None

    async def process(self, render: Render, brief: Brief, request: VideoRequest, clip: Path) -> ProcessedClip:
        """Run :meth:`process_now` in the pool."""
        loop = asyncio.get_running_loop()
        track = None
        if brief.explainer is not None and await asyncio.to_thread(clip.exists):
            # the voice is made first (a TTS API is I/O); mixing happens in the one pool pass
            track = await explain(brief, request, render, self.speech, self._work_dir(render))
        work = functools.partial(self.process_now, render, brief, request, clip, track)
        try:
            return await loop.run_in_executor(self._pool(), work)
        finally:
            if track is not None:
                await asyncio.to_thread(shutil.rmtree, self._work_dir(render), True)

    async def process_cut(self, job: CutJob) -> ProcessedCut:
        """Finish a multi-shot cut (stitch + mark + narration + QC in one pass, C2PA, sidecar) in the pool."""
        mark = self.mark_for(job.facts.source_type)
        work = functools.partial(finish_cut, job, watermark=mark, signer=self.signer, limits=self._limits)
        return await asyncio.get_running_loop().run_in_executor(self._pool(), work)

    async def renarrate(self, render: Render, brief: Brief, request: VideoRequest) -> ProcessedClip:
        """Retry narration: speak the script again and mix it under the clip filed for ``render``.

        No provider job: the filed clip already carries the mark (and any burned captions), and
        without new burned captions its picture is copied packet for packet, so only the voice
        is added. The clip is re-signed with the voice as ingredients and its sidecar rewritten.

        Raises:
            MediaError: the clip is gone, or the voice failed again (the filed clip is untouched).
        """
        if brief.explainer is None:
            raise MediaError(f"render {render.id} is not an explainer")
        final = self._clip_path(render)
        if not await asyncio.to_thread(final.exists):
            raise MediaError(f"the clip of render {render.id} is no longer kept")
        try:
            track = await explain(brief, request, render, self.speech, self._work_dir(render))
            if not track.narration.voices:
                raise MediaError(f"narration of render {render.id} failed again: {track.narration.note}")
            work = functools.partial(self.renarrate_now, render, brief, request, track)
            return await asyncio.get_running_loop().run_in_executor(self._pool(), work)
        finally:
            await asyncio.to_thread(shutil.rmtree, self._work_dir(render), True)

    def renarrate_now(
        self, render: Render, brief: Brief, request: VideoRequest, track: ExplainerTrack
    ) -> ProcessedClip:
        """Mix ``track``'s voice under the filed clip, re-sign it and rewrite its sidecar (blocking)."""
        final = self._clip_path(render)
        sidecar = final.with_name(f"{final.stem}.provenance.json")
        before: dict[str, Any] = json.loads(sidecar.read_text())
        seconds = float(before.get("seconds", render.seconds))
        source_type = self._source_type_for(render)
        facts = provenance_facts(render, brief, request, source_type=source_type)
        narrated = final.with_name(f".{final.stem}.narrated.mp4")
        staged = final.with_name(f".{final.stem}.staged.mp4")
        signed: SignedClip | None = None
        try:
            explained = finish_explainer(track, final, narrated, final, seconds=seconds, already_burned=True)
            ingredients = list(explained.ingredients)
            if self.signer is not None:
                signed = sign_clip(explained.clip, staged, facts, self.signer, ingredients)
            else:
                shutil.copyfile(explained.clip, staged)
            os.replace(staged, final)
        finally:
            narrated.unlink(missing_ok=True)
            staged.unlink(missing_ok=True)
        if signed is not None:
            signed = SignedClip(final, signed.manifest_label, signed.sha256)
        # the provider's findings stay; the narration's checks are made anew
        narration_checks = {f.message for f in explained.findings}
        kept = [f for f in before.get("qc", []) if f.get("message") not in narration_checks]
        qc = [*kept, *(asdict(f) for f in explained.findings)]
        extra: dict[str, Any] = {
            "qc": qc,
            "qc_hard_failure": bool(before.get("qc_hard_failure")),
            "seconds": seconds,
            "watermark": before.get("watermark"),
            "narration_retried": True,
        }
        extra.update(explained.sidecar())
        write_sidecar(final, facts, signed, extra, ingredients)
        return ProcessedClip(
            path=final,
            findings=tuple(str(f["message"]) for f in qc),
            hard_failure=bool(before.get("qc_hard_failure")),
            provenance_digest=signed.sha256 if signed else sha256_file(final),
            seconds=seconds,
            attachments=explained.attachments,
            notes=explained.notes,
        )

    def _work_dir(self, render: Render) -> Path:
        return self.output_dir / ".narration" / render.id

    def process_now(
        self,
        render: Render,
        brief: Brief,
        request: VideoRequest,
        clip: Path,
        track: ExplainerTrack | None = None,
    ) -> ProcessedClip:
        """Mark and check, sign and file one clip (blocking); then drop the provider's copy.

        Raises:
            MediaError: the clip cannot be decoded, or a step cannot be done; the reason
                names the cause, and the worker marks the render failed with it.
        """
        final = self._clip_path(render)
        if not clip.exists():
            done = _filed_before(final, render)
            if done is not None:
                return done
        source_type = self._source_type_for(render)
        mark = self.mark_for(source_type)
        final.parent.mkdir(parents=True, exist_ok=True)
        marked = final.with_name(f".{final.stem}.marked.mp4")
        staged = final.with_name(f".{final.stem}.staged.mp4")
        facts = provenance_facts(render, brief, request, source_type=source_type)
        narrated = final.with_name(f".{final.stem}.narrated.mp4")
        signed: SignedClip | None = None
        ingredients: list[Ingredient] = []
        explained = None
        try:
            current = clip
            if mark is not None:
                report = self._marked(render, clip, marked, mark)
                current = marked
            else:
                report = self._checked(render, clip)
            if track is not None:
                explained = finish_explainer(track, current, narrated, final, seconds=report.seconds)
                current = explained.clip
                ingredients = list(explained.ingredients)
            if self.signer is not None:
                signed = sign_clip(current, staged, facts, self.signer, ingredients)
            else:
                shutil.copyfile(current, staged)
            os.replace(staged, final)  # the final name only ever holds a finished clip
        finally:
            marked.unlink(missing_ok=True)
            staged.unlink(missing_ok=True)
            narrated.unlink(missing_ok=True)
        if signed is not None:
            signed = SignedClip(final, signed.manifest_label, signed.sha256)
        findings = [*report.findings, *(explained.findings if explained else ())]
        extra: dict[str, Any] = {
            "qc": [asdict(f) for f in findings],
            "qc_hard_failure": report.hard_failure,
            "seconds": report.seconds,
            "watermark": _watermark_facts(mark),
        }
        if explained is not None:
            extra.update(explained.sidecar())
        write_sidecar(final, facts, signed, extra, ingredients)
        if not self.keep_original and clip.resolve() != final.resolve():
            clip.unlink(missing_ok=True)  # one copy of each clip: the final one
        return ProcessedClip(
            path=final,
            findings=tuple(f.message for f in findings),
            hard_failure=report.hard_failure,
            provenance_digest=signed.sha256 if signed else sha256_file(final),
            seconds=report.seconds,
            attachments=explained.attachments if explained else (),
            notes=explained.notes if explained else (),
        )

    def mark_for(self, source_type: SourceType) -> Watermark | None:
        """The mark a clip of this kind carries: a storyboard preview does not claim to be AI video."""
        return self.preview_mark if source_type == SourceType.ALGORITHMIC else self.watermark

    def _marked(self, render: Render, clip: Path, dest: Path, mark: Watermark) -> QcReport:
        try:
            done = burn_watermark(clip, dest, mark, limits=self._limits)
        except Undecodable as exc:
            raise MediaError(f"the clip from {render.provider} {exc.reason}") from exc
        report = done.qc.report(
            seconds=float(render.seconds),
            size=_requested_size(render),
            audio=self._audio_for(render),
            has_audio=done.has_audio,
        )
        return _decodable(render, report)

    def _checked(self, render: Render, clip: Path) -> QcReport:
        report = inspect_clip(
            clip,
            seconds=float(render.seconds),
            size=_requested_size(render),
            audio=self._audio_for(render),
            limits=self._limits,
        )
        return _decodable(render, report)

    def close(self) -> None:
        """Stop the pool this processor created."""
        if self._owns_executor and self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def _pool(self) -> concurrent.futures.Executor:
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="media")
        return self._executor


def provenance_facts(
    render: Render,
    brief: Brief,
    request: VideoRequest,
    approver: str | None = None,
    *,
    source_type: SourceType = SourceType.TRAINED,
) -> ProvenanceFacts:
    """What the manifest says about one clip: who asked, which brief, which model, who approved."""
    return ProvenanceFacts(
        render_id=render.id,
        request_id=request.id,
        provider=render.provider,
        model=render.model,
        brief_digest=brief.digest,
        brief_version=brief.version,
        requester=request.requester,
        approver=approver,
        platform=request.target.platform,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source_type=source_type,
    )


def _decodable(render: Render, report: QcReport) -> QcReport:
    broken = report.undecodable
    if broken is not None:
        reason = broken.message.removeprefix("the clip ")
        raise MediaError(f"the clip from {render.provider} {reason}")
    return report


def _watermark_facts(mark: Watermark | None) -> dict[str, str | None] | None:
    if mark is None:
        return None
    logo = mark.logo.name if mark.logo else None
    return {"text": mark.text, "logo": logo, "position": str(mark.position)}


def _filed_before(final: Path, render: Render) -> ProcessedClip | None:
    """The result of an earlier run for ``render`` whose download is gone, read from its sidecar."""
    sidecar = final.with_name(f"{final.stem}.provenance.json")
    try:
        data = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return None
    if data.get("render_id") != render.id or not final.exists() or data.get("sha256") != sha256_file(final):
        return None
    log.info("render %s was filed before its result was recorded; reusing %s", render.id, final.name)
    return ProcessedClip(
        path=final,
        findings=tuple(str(f["message"]) for f in data.get("qc", [])),
        hard_failure=bool(data.get("qc_hard_failure")),
        provenance_digest=str(data["sha256"]),
        seconds=float(data.get("seconds", render.seconds)),
        attachments=tuple(final.with_name(str(n)) for n in data.get("attachments") or ()),
        notes=tuple(str(n) for n in data.get("notes") or ()),
    )


def _requested_size(render: Render) -> tuple[int, int] | None:
    """``"1280x720"`` as a pair; a provider that names sizes otherwise skips the size check."""
    try:
        return render.width, render.height
    except (ValueError, IndexError):
        return None
