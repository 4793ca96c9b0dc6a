"""Build the post-processor (watermark + QC → C2PA → sidecar) and the approval sealer from settings."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adapters.media.postprocess import MediaPostProcessor, provenance_facts
from adapters.media.provenance import (
    DevCredentials,
    Ingredient,
    SignedClip,
    SignerConfig,
    create_dev_certificates,
    sign_clip,
    write_sidecar,
)
from adapters.media.speech import EspeakSynthesizer, SpeechSynthesizer
from adapters.runtime.settings import Settings
from bot.domain import Brief, Render, VideoRequest
from bot.planner import ProviderRouter
from bot.ports import ProcessedClip, SourceType
from storage.media import LocalMediaStore

log = logging.getLogger(__name__)
# carried into the sealed sidecar: what the approver saw and heard, explainers' voice and captions too
_REVIEWED_FACTS = (
    "qc",
    "qc_hard_failure",
    "seconds",
    "watermark",
    "narration",
    "captions",
    "captions_burned",
    "loudness_lufs",
    "attachments",
)


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


def source_types(providers: ProviderRouter | None) -> Callable[[Render], SourceType]:
    """How each render's provider makes clips, from its capabilities (C2PA and watermark follow it)."""

    def source_type(render: Render) -> SourceType:
        if providers is None:
            return SourceType.TRAINED
        try:
            return providers.get(render.provider).capabilities().source_type
        except Exception:
            # claiming a trained model made it is the cautious label when the provider is unknown
            log.warning(
                "provider %s unknown: labelling render %s as AI-generated", render.provider, render.id
            )
            return SourceType.TRAINED

    return source_type


def speech_synthesizer(
    engine: str = "auto",
    *,
    client: Any | None = None,
    model: str | None = None,
    voice: str | None = None,
    instructions: str | None = None,
) -> SpeechSynthesizer:
    """The narration engine: ``espeak`` (keyless, offline), ``openai`` (``client`` is an
    ``AsyncOpenAI``), or ``auto`` (OpenAI when a client is given, else eSpeak NG)."""
    if engine not in ("auto", "espeak", "openai"):  # "off" is decided by build_speech
        raise ValueError(f"unknown speech engine {engine!r}: use auto, espeak or openai")
    if engine == "espeak" or (engine == "auto" and client is None):
        return EspeakSynthesizer()
    if client is None:
        raise ValueError("the openai speech engine needs an OpenAI client (OPENAI_API_KEY)")
    from adapters.media.speech_openai import MODEL, VOICE, OpenAISpeech  # openai is an optional extra

    return OpenAISpeech(client, model=model or MODEL, voice=voice or VOICE, instructions=instructions)


def build_speech(settings: Settings) -> SpeechSynthesizer | None:
    """The narration engine the settings ask for (``CLIPDESK_SPEECH``); ``None`` when it is off."""
    if settings.speech == "off":
        return None
    client = None
    if settings.speech in ("auto", "openai") and settings.openai_api_key:
        from adapters.llm.factory import llm_client  # openai is an optional extra

        client = llm_client(settings)
    return speech_synthesizer(
        settings.speech,
        client=client,
        model=settings.speech_model,
        voice=settings.speech_voice,
        instructions=settings.speech_instructions,
    )


def postprocessor(
    settings: Settings,
    media: LocalMediaStore,
    providers: ProviderRouter | None = None,
    *,
    keep_originals: bool = False,
) -> MediaPostProcessor:
    """The post-processor; ``keep_originals`` keeps providers' downloads until retention removes them."""
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
        source_type_for=source_types(providers),
        keep_original=keep_originals,
        speech=build_speech(settings),
    )


class ApprovalSealer:
    """Signs an approved clip again so its C2PA manifest names the approver.

    The sealed clip replaces the reviewed one under the same name (one copy of each
    clip, and a path that never points at a deleted file); its manifest lists the
    reviewed clip as its parent ingredient, so the chain of manifests is kept.
    """

    def __init__(
        self, signer: SignerConfig, source_type_for: Callable[[Render], SourceType] | None = None
    ) -> None:
        self.signer = signer
        self._source_type_for = source_type_for or (lambda render: SourceType.TRAINED)

    async def seal(self, render: Render, brief: Brief, request: VideoRequest, approver: str) -> ProcessedClip:
        return await asyncio.to_thread(self._seal, render, brief, request, approver)

    def _seal(self, render: Render, brief: Brief, request: VideoRequest, approver: str) -> ProcessedClip:
        assert render.clip_path is not None
        clip = Path(render.clip_path)
        staged = clip.with_name(f".{clip.stem}.sealing.mp4")
        reviewed_facts = _sidecar(clip)
        # what the post-processor decided from the provider, recorded beside the reviewed clip
        source_type = SourceType(reviewed_facts.get("source_type") or self._source_type_for(render))
        facts = provenance_facts(render, brief, request, approver, source_type=source_type)
        reviewed = Ingredient(clip, "reviewed clip", source_type=source_type, relationship="parentOf")
        try:
            signed = sign_clip(clip, staged, facts, self.signer, [reviewed])
            os.replace(staged, clip)
        finally:
            staged.unlink(missing_ok=True)
        sealed = SignedClip(clip, signed.manifest_label, signed.sha256)
        kept: dict[str, Any] = {k: v for k, v in reviewed_facts.items() if k in _REVIEWED_FACTS}
        write_sidecar(clip, facts, sealed, {**kept, "approved": True}, [reviewed])
        return ProcessedClip(path=clip, provenance_digest=sealed.sha256, seconds=float(render.seconds))


def _sidecar(clip: Path) -> dict[str, Any]:
    try:
        data = json.loads(clip.with_name(f"{clip.stem}.provenance.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def approval_sealer(settings: Settings, providers: ProviderRouter | None = None) -> ApprovalSealer | None:
    signer = signer_config(settings)
    return ApprovalSealer(signer, source_types(providers)) if signer else None
