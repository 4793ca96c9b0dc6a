"""The post-processor every clip goes through: QC → watermark → C2PA signature → sidecar.

QC runs on the clip as the provider delivered it, so its findings describe the
provider's work, not ours. The watermark pass is the only re-encode; signing only
rewrites the container. Everything runs in a pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from adapters.media.provenance import (
    ProvenanceFacts,
    SignedClip,
    SignerConfig,
    check_signer,
    sha256_file,
    sign_clip,
    write_sidecar,
)
from adapters.media.qc import QcLimits, inspect_clip
from adapters.media.watermark import DEFAULT_TEXT, Watermark, burn_watermark, load_logo
from bot.domain import Brief, Render, VideoRequest
from bot.errors import MediaError
from bot.ports import ProcessedClip


class MediaPostProcessor:
    """``bot.ports.PostProcessor`` with PyAV and c2pa-python.

    Args:
        output_dir: where finished clips go, as ``<render id>.mp4``, unless ``clip_path``
            says otherwise (e.g. ``media_store.clip_path(render.id)``).
        watermark_*: the visible mark; on by default. A bad logo or position fails here,
            at start-up, not on the first clip.
        cert_chain, private_key, signing_algorithm, tsa_url: the C2PA signer; signing is
            off when they are not given. An expired certificate fails here too.
        audio_for: whether a render was meant to have sound (for the missing-audio check).
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
        watermark_logo: Path | None = None,
        watermark_position: str = "bottom-right",
        watermark_opacity: float = 0.7,
        cert_chain: Path | None = None,
        private_key: Path | None = None,
        signing_algorithm: str = "es256",
        tsa_url: str | None = None,
        audio_for: Callable[[Render], bool] | None = None,
        qc_limits: QcLimits | None = None,
        executor: concurrent.futures.Executor | None = None,
    ) -> None:
        self.output_dir = Path(output_dir)
        self._clip_path = clip_path or (lambda render: self.output_dir / f"{render.id}.mp4")
        self.watermark: Watermark | None = None
        if watermark_enabled:
            self.watermark = Watermark(watermark_text, watermark_logo, watermark_position, watermark_opacity)
            if watermark_logo is not None:
                load_logo(watermark_logo)
        self.signer: SignerConfig | None = None
        if (cert_chain is None) != (private_key is None):
            raise MediaError("C2PA signing needs both a certificate chain and a private key")
        if cert_chain is not None and private_key is not None:
            self.signer = SignerConfig(Path(cert_chain), Path(private_key), signing_algorithm, tsa_url)
            check_signer(self.signer)
        self._audio_for = audio_for or (lambda render: False)
        self._limits = qc_limits or QcLimits()
        self._executor = executor
        self._owns_executor = executor is None

    async def process(self, render: Render, brief: Brief, request: VideoRequest, clip: Path) -> ProcessedClip:
        """Run :meth:`process_now` in the pool."""
        loop = asyncio.get_running_loop()
        work = functools.partial(self.process_now, render, brief, request, clip)
        return await loop.run_in_executor(self._pool(), work)

    def process_now(self, render: Render, brief: Brief, request: VideoRequest, clip: Path) -> ProcessedClip:
        """QC, watermark, sign and file one clip (blocking).

        Raises:
            MediaError: the clip cannot be decoded, or a step cannot be done; the reason
                names the cause, and the worker marks the render failed with it.
        """
        report = inspect_clip(
            clip,
            seconds=float(render.seconds),
            size=_requested_size(render),
            audio=self._audio_for(render),
            limits=self._limits,
        )
        broken = report.undecodable
        if broken is not None:
            reason = broken.message.removeprefix("the clip ")
            raise MediaError(f"the clip from {render.provider} {reason}")
        final = self._clip_path(render)
        final.parent.mkdir(parents=True, exist_ok=True)
        marked = final.with_name(f".{final.stem}.marked.mp4")
        staged = final.with_name(f".{final.stem}.staged.mp4")
        facts = provenance_facts(render, brief, request)
        signed: SignedClip | None = None
        try:
            current = clip
            if self.watermark is not None:
                burn_watermark(clip, marked, self.watermark)
                current = marked
            if self.signer is not None:
                signed = sign_clip(current, staged, facts, self.signer)
            else:
                shutil.copyfile(current, staged)
            os.replace(staged, final)  # the final name only ever holds a finished clip
        finally:
            marked.unlink(missing_ok=True)
            staged.unlink(missing_ok=True)
        if signed is not None:
            signed = SignedClip(final, signed.manifest_label, signed.sha256)
        extra = {
            "qc": [asdict(f) for f in report.findings],
            "qc_hard_failure": report.hard_failure,
            "watermark": self._watermark_facts(),
        }
        write_sidecar(final, facts, signed, extra)
        return ProcessedClip(
            path=final,
            findings=report.messages,
            hard_failure=report.hard_failure,
            provenance_digest=signed.sha256 if signed else sha256_file(final),
            seconds=report.seconds,
        )

    def _watermark_facts(self) -> dict[str, str | None] | None:
        mark = self.watermark
        if mark is None:
            return None
        logo = mark.logo.name if mark.logo else None
        return {"text": mark.text, "logo": logo, "position": str(mark.position)}

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
    render: Render, brief: Brief, request: VideoRequest, approver: str | None = None
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
    )


def _requested_size(render: Render) -> tuple[int, int] | None:
    """``"1280x720"`` as a pair; a provider that names sizes otherwise skips the size check."""
    try:
        return render.width, render.height
    except (ValueError, IndexError):
        return None
