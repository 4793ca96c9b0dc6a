"""Build the post-processor (QC → watermark → C2PA → sidecar) and the approval sealer from settings."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from adapters.media.postprocess import MediaPostProcessor, provenance_facts
from adapters.media.provenance import (
    DevCredentials,
    SignerConfig,
    create_dev_certificates,
    sign_clip,
    write_sidecar,
)
from adapters.runtime.settings import Settings
from bot.domain import Brief, Render, VideoRequest
from bot.planner import ProviderRouter
from bot.ports import ProcessedClip
from storage.media import LocalMediaStore

log = logging.getLogger(__name__)


def dev_credentials(folder: Path) -> DevCredentials:
    """The local development signing chain, made once (``clipdesk keys init`` or first use)."""
    chain, key, root = folder / "chain.pem", folder / "signer.key", folder / "root.pem"
    if chain.exists() and key.exists() and root.exists():
        return DevCredentials(SignerConfig(chain, key), root)
    log.warning("no C2PA certificate configured: creating a local DEVELOPMENT chain in %s", folder)
    return create_dev_certificates(folder)


def signer_config(settings: Settings) -> SignerConfig | None:
    if settings.c2pa_cert_chain or settings.c2pa_private_key:
        if not (settings.c2pa_cert_chain and settings.c2pa_private_key):
            raise ValueError("set both CLIPDESK_C2PA_CERT_CHAIN and CLIPDESK_C2PA_PRIVATE_KEY")
        return SignerConfig(
            settings.c2pa_cert_chain,
            settings.c2pa_private_key,
            settings.c2pa_algorithm,
            settings.c2pa_tsa_url,
        )
    if settings.c2pa_dev_keys:
        return dev_credentials(settings.data_dir / "keys").signer
    return None


def postprocessor(
    settings: Settings, media: LocalMediaStore, providers: ProviderRouter | None = None
) -> MediaPostProcessor:
    signer = signer_config(settings)

    def wants_audio(render: Render) -> bool:
        if providers is None:
            return False
        try:
            return providers.get(render.provider).capabilities().model(render.model).audio
        except Exception:
            return False

    return MediaPostProcessor(
        media.root / "clips",
        clip_path=lambda render: media.clip_path(render.id),
        watermark_enabled=settings.watermark,
        watermark_text=settings.watermark_text,
        watermark_logo=settings.watermark_logo,
        watermark_position=settings.watermark_position,
        watermark_opacity=settings.watermark_opacity,
        cert_chain=signer.cert_chain if signer else None,
        private_key=signer.private_key if signer else None,
        signing_algorithm=signer.algorithm if signer else "es256",
        tsa_url=signer.tsa_url if signer else None,
        audio_for=wants_audio,
    )


class ApprovalSealer:
    """Signs an approved clip again so its C2PA manifest names the approver."""

    def __init__(self, signer: SignerConfig) -> None:
        self.signer = signer

    async def seal(self, render: Render, brief: Brief, request: VideoRequest, approver: str) -> ProcessedClip:
        return await asyncio.to_thread(self._seal, render, brief, request, approver)

    def _seal(self, render: Render, brief: Brief, request: VideoRequest, approver: str) -> ProcessedClip:
        assert render.clip_path is not None
        source = Path(render.clip_path)
        dest = source.with_name(f"{render.id}.approved.mp4")
        facts = provenance_facts(render, brief, request, approver)
        signed = sign_clip(source, dest, facts, self.signer)
        write_sidecar(dest, facts, signed, {"approved_from": source.name})
        return ProcessedClip(path=dest, provenance_digest=signed.sha256, seconds=float(render.seconds))


def approval_sealer(settings: Settings) -> ApprovalSealer | None:
    signer = signer_config(settings)
    return ApprovalSealer(signer) if signer else None
