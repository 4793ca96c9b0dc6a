"""C2PA provenance: sign a clip with a manifest that says how it was made and who asked for it.

The manifest carries a ``c2pa.created`` action with the IPTC digital source type the
provider declares (``trainedAlgorithmicMedia`` for a generative model,
``algorithmicMedia`` for the storyboard animatic, which no trained model makes), one
``c2pa.placed`` action per ingredient (the shot clips of a cut, a narration voice,
each with its own source type), and a ``com.clipdesk.render`` assertion (provider,
model, brief digest, requester, approver when known). It is signed with the
operator's certificate chain and key (see :mod:`adapters.media.credentials`;
:func:`create_dev_certificates` makes a local chain for development).

What "validates" means here (see :class:`ProvenanceCheck`): the manifest is present, its
signature and every hash (assertions and the BMFF data hash) check out, i.e. c2pa's
validation state is ``Valid`` or ``Trusted``. A development root is not on any public
trust list, so c2pa reports ``signingCredential.untrusted`` for it and the state stays
``Valid``; pass the root as ``trust_anchors`` to get ``Trusted``. Tampering with the
clip makes the state ``Invalid``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from adapters.media.credentials import (
    ALGORITHMS,
    DevCredentials,
    SignerConfig,
    check_signer,
    create_dev_certificates,
)
from bot.errors import MediaError
from bot.ports import SourceType

__all__ = [
    "ALGORITHMS",
    "DevCredentials",
    "Ingredient",
    "ProvenanceCheck",
    "ProvenanceFacts",
    "SignedClip",
    "SignerConfig",
    "check_signer",
    "create_dev_certificates",
    "digital_source_type",
    "read_provenance",
    "sha256_file",
    "sign_clip",
    "write_sidecar",
]

IPTC_SOURCE_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED_ALGORITHMIC_MEDIA = IPTC_SOURCE_TYPES + SourceType.TRAINED.value
ALGORITHMIC_MEDIA = IPTC_SOURCE_TYPES + SourceType.ALGORITHMIC.value
ASSERTION_LABEL = "com.clipdesk.render"
UNTRUSTED = "signingCredential.untrusted"


def digital_source_type(kind: SourceType | str) -> str:
    """The IPTC URI C2PA expects for a provider's :class:`~bot.ports.SourceType`."""
    return IPTC_SOURCE_TYPES + SourceType(kind).value


@dataclass(frozen=True)
class ProvenanceFacts:
    """What the manifest and the sidecar say about one clip."""

    render_id: str
    request_id: str
    provider: str
    model: str
    brief_digest: str
    brief_version: int
    requester: str
    approver: str | None = None
    platform: str = ""
    created_at: str = ""
    source_type: SourceType = SourceType.TRAINED

    def to_dict(self) -> dict[str, Any]:
        facts = {k: v for k, v in asdict(self).items() if v not in (None, "")}
        facts["source_type"] = SourceType(self.source_type).value
        return facts


@dataclass(frozen=True)
class Ingredient:
    """A file the clip was made from: a shot clip of a cut, or a narration voice track.

    Args:
        path: the file; c2pa hashes it (and keeps its own manifest, if it has one).
        title: how the manifest names it ("shot 2", "narration").
        mime: ``video/mp4``, ``audio/wav``, …
        source_type: how it was made; a voice from a TTS model is ``TRAINED``.
        agent: what made it ("openai/gpt-4o-mini-tts", "espeak-ng").
        relationship: ``componentOf`` (a part), or ``parentOf`` (the earlier version of this
            very clip, e.g. the one an approval re-signs).
    """

    path: Path
    title: str
    mime: str = "video/mp4"
    source_type: SourceType = SourceType.TRAINED
    agent: str = ""
    relationship: str = "componentOf"

    def to_dict(self) -> dict[str, str]:
        return {
            "title": self.title,
            "file": self.path.name,
            "format": self.mime,
            "digital_source_type": digital_source_type(self.source_type),
            "agent": self.agent,
        }


@dataclass(frozen=True)
class SignedClip:
    path: Path
    manifest_label: str
    sha256: str  # of the signed file: the digest stored with the render


@dataclass(frozen=True)
class ProvenanceCheck:
    """The read-back of a clip's manifest.

    ``validates`` is true when the manifest is intact and correctly signed (state
    ``Valid`` or ``Trusted``); ``trusted`` when the signer chains to a trust anchor.
    """

    state: str  # "Trusted", "Valid", "Invalid", or "missing"
    validates: bool
    trusted: bool
    failures: tuple[str, ...]
    manifest_label: str | None = None
    facts: dict[str, Any] | None = None
    digital_source_type: str | None = None
    ingredients: tuple[str, ...] = ()  # their titles
    placed: tuple[tuple[str, str], ...] = ()  # (ingredient title, its digital source type)


# ------------------------------------------------------------------- sign and read


def manifest_for(facts: ProvenanceFacts, ingredients: Sequence[Ingredient] = ()) -> dict[str, Any]:
    """The manifest definition c2pa's Builder signs."""
    actions: list[dict[str, Any]] = [
        {
            "action": "c2pa.created",
            "digitalSourceType": digital_source_type(facts.source_type),
            "softwareAgent": {"name": f"{facts.provider}/{facts.model}"},
        }
    ]
    for number, item in enumerate(ingredients):
        if item.relationship == "parentOf":
            continue  # the earlier version of this clip: an ingredient, not a part placed in it
        placed: dict[str, Any] = {
            "action": "c2pa.placed",
            "digitalSourceType": digital_source_type(item.source_type),
            "description": item.title,
            "parameters": {"ingredientIds": [_ingredient_label(number)]},
        }
        if item.agent:
            placed["softwareAgent"] = {"name": item.agent}
        actions.append(placed)
    return {
        "claim_generator_info": [{"name": "clipdesk", "version": _version()}],
        "title": f"clipdesk render {facts.render_id}",
        "format": "video/mp4",
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": actions}},
            {"label": ASSERTION_LABEL, "data": facts.to_dict()},
        ],
    }


def sign_clip(
    source: Path,
    dest: Path,
    facts: ProvenanceFacts,
    config: SignerConfig,
    ingredients: Sequence[Ingredient] = (),
) -> SignedClip:
    """Embed a signed manifest in ``source``, writing ``dest`` (which may not be ``source``).

    Raises:
        MediaError: bad or expired credentials, an ingredient that cannot be read, or
            c2pa refused the file.
    """
    if source.resolve() == dest.resolve():
        raise MediaError(f"cannot sign {source.name} in place; give another destination")
    c2pa = _c2pa()
    chain, key_pem = check_signer(config)
    algorithm = getattr(c2pa.C2paSigningAlg, config.algorithm.upper())
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(algorithm, chain, key_pem, config.tsa_url))
        with ExitStack() as files, signer, c2pa.Builder(manifest_for(facts, ingredients)) as builder:
            for number, item in enumerate(ingredients):
                stream = files.enter_context(item.path.open("rb"))
                label = _ingredient_label(number)  # what the placed action points at
                definition = {"title": item.title, "relationship": item.relationship, "label": label}
                builder.add_ingredient(definition, item.mime, stream)
            with source.open("rb") as src, dest.open("w+b") as out:
                builder.sign(signer, "video/mp4", src, out)
        with c2pa.Reader(str(dest)) as reader:
            label = str((reader.get_active_manifest() or {}).get("label", ""))
    except OSError as exc:
        dest.unlink(missing_ok=True)
        raise MediaError(f"C2PA signing of {source.name} cannot read a file: {exc}") from exc
    except c2pa.C2paError as exc:
        dest.unlink(missing_ok=True)
        raise MediaError(f"C2PA signing of {source.name} failed: {exc}") from exc
    return SignedClip(dest, label, sha256_file(dest))


def read_provenance(path: Path, trust_anchors: Path | None = None) -> ProvenanceCheck:
    """Read the manifest back with c2pa's Reader and judge it (see the module docstring)."""
    c2pa = _c2pa()
    context = None
    if trust_anchors is not None:
        try:
            anchors = trust_anchors.read_text()
        except OSError as exc:
            raise MediaError(f"cannot read the C2PA trust anchors: {exc}") from exc
        settings = c2pa.Settings.from_dict(
            {
                "verify": {"verify_trust": True},
                "trust": {"user_anchors": anchors},
            }
        )
        context = c2pa.Context(settings)
    try:
        reader = c2pa.Reader(str(path), context=context) if context else c2pa.Reader(str(path))
    except c2pa.C2paError as exc:
        return ProvenanceCheck("missing", False, False, (f"no readable manifest: {exc}",))
    with reader:
        state = reader.get_validation_state() or "Invalid"
        results = reader.get_validation_results() or {}
        manifest = reader.get_active_manifest() or {}
    failures = tuple(f.get("code", "?") for f in results.get("activeManifest", {}).get("failure", []))
    assertions = {a.get("label"): a.get("data") for a in manifest.get("assertions", [])}
    actions = (assertions.get("c2pa.actions.v2") or assertions.get("c2pa.actions") or {}).get("actions", [])
    source_type = next(
        (a.get("digitalSourceType") for a in actions if a.get("action") == "c2pa.created"), None
    )
    return ProvenanceCheck(
        state=state,
        validates=state in ("Valid", "Trusted") and set(failures) <= {UNTRUSTED},
        trusted=state == "Trusted",
        failures=failures,
        manifest_label=manifest.get("label"),
        facts=assertions.get(ASSERTION_LABEL),
        digital_source_type=source_type,
        ingredients=tuple(str(i.get("title", "")) for i in manifest.get("ingredients", [])),
        placed=tuple(
            (str(a.get("description", "")), str(a.get("digitalSourceType", "")))
            for a in actions
            if a.get("action") == "c2pa.placed"
        ),
    )


def write_sidecar(
    clip: Path,
    facts: ProvenanceFacts,
    signed: SignedClip | None,
    extra: dict[str, Any] | None = None,
    ingredients: Sequence[Ingredient] = (),
) -> Path:
    """Write ``<clip>.provenance.json`` with the manifest's facts, for tools that cannot read C2PA."""
    sidecar = clip.with_name(f"{clip.stem}.provenance.json")
    data: dict[str, Any] = {
        "clip": clip.name,
        "sha256": signed.sha256 if signed else sha256_file(clip),
        "claim_generator": "clipdesk",
        "action": "c2pa.created",
        "digital_source_type": digital_source_type(facts.source_type),
        "c2pa_manifest": signed.manifest_label if signed else None,
        "ingredients": [item.to_dict() for item in ingredients],
        **facts.to_dict(),
        **(extra or {}),
    }
    tmp = sidecar.with_name(f".{sidecar.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, sidecar)
    return sidecar


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _ingredient_label(number: int) -> str:
    return f"clipdesk.ingredient.{number}"


def _c2pa() -> Any:
    """c2pa-python is the optional ``provenance`` extra; without it only signing is off."""
    try:
        return importlib.import_module("c2pa")
    except ImportError as exc:
        raise MediaError("C2PA needs c2pa-python: pip install 'clipdesk[provenance]'") from exc


def _version() -> str:
    try:
        return metadata.version("clipdesk")
    except metadata.PackageNotFoundError:  # an uninstalled checkout still signs
        return "0"
