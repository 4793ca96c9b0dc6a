"""C2PA provenance: sign a clip with a manifest that says it is AI-made and by whom it was asked.

The manifest carries a ``c2pa.created`` action with the IPTC digital source type
``trainedAlgorithmicMedia`` and a ``com.clipdesk.render`` assertion (provider, model,
brief digest, requester, approver when known). It is signed with the operator's
certificate chain and key; :func:`create_dev_certificates` makes a local chain for
development (``clipdesk keys init``).

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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bot.errors import MediaError

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
ASSERTION_LABEL = "com.clipdesk.render"
ALGORITHMS = ("es256", "ps256")
UNTRUSTED = "signingCredential.untrusted"


@dataclass(frozen=True)
class SignerConfig:
    """The operator's signing credentials: a PEM chain (signing cert first) and its PEM key."""

    cert_chain: Path
    private_key: Path
    algorithm: str = "es256"
    tsa_url: str | None = None


@dataclass(frozen=True)
class DevCredentials:
    signer: SignerConfig
    root: Path  # the development root CA, to use as a trust anchor when reading back


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

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


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


# ---------------------------------------------------------------------- certificates


def _key_usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _new_key(algorithm: str) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    if algorithm == "es256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cert_sign_args(algorithm: str) -> dict[str, Any]:
    # PS256 certificates are themselves signed with RSASSA-PSS, as C2PA's profile expects
    if algorithm == "ps256":
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return {"algorithm": hashes.SHA256(), "rsa_padding": pss}
    return {"algorithm": hashes.SHA256()}


def create_dev_certificates(
    directory: Path,
    *,
    algorithm: str = "es256",
    days: int = 365,
    valid_from: datetime | None = None,
    organization: str = "clipdesk development",
) -> DevCredentials:
    """Write a LOCAL DEVELOPMENT root CA and signing certificate that c2pa accepts.

    The signing certificate is an end entity (not a CA) with the digitalSignature key
    usage and the emailProtection extended key usage that C2PA's certificate profile
    asks for. Files: ``root.pem``, ``chain.pem`` (signing cert then root), ``signer.key``.
    Never use these to sign clips that leave your machine: nobody trusts the root.
    """
    if algorithm not in ALGORITHMS:
        raise MediaError(f"signing algorithm {algorithm!r} is not one of {ALGORITHMS}")
    directory.mkdir(parents=True, exist_ok=True)
    start = (valid_from or datetime.now(UTC)) - timedelta(minutes=5)
    root_key, key = _new_key(algorithm), _new_key(algorithm)
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organization} root CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )
    signer_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organization} signer"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days * 2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, **_cert_sign_args(algorithm))
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(signer_name)
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True, ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False)
        .sign(root_key, **_cert_sign_args(algorithm))
    )
    pem = serialization.Encoding.PEM
    (directory / "root.pem").write_bytes(root.public_bytes(pem))
    (directory / "chain.pem").write_bytes(leaf.public_bytes(pem) + root.public_bytes(pem))
    key_path = directory / "signer.key"
    key_bytes = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    config = SignerConfig(directory / "chain.pem", key_path, algorithm)
    return DevCredentials(config, directory / "root.pem")


def check_signer(config: SignerConfig, now: datetime | None = None) -> tuple[bytes, bytes]:
    """Load the chain and key and refuse what c2pa would refuse, naming the cause.

    Returns the chain and key PEM bytes.
    """
    if config.algorithm not in ALGORITHMS:
        raise MediaError(f"signing algorithm {config.algorithm!r} is not one of {ALGORITHMS}")
    try:
        chain, key_pem = config.cert_chain.read_bytes(), config.private_key.read_bytes()
    except OSError as exc:
        raise MediaError(f"cannot read the signing credentials: {exc}") from exc
    try:
        certs = x509.load_pem_x509_certificates(chain)
        key = serialization.load_pem_private_key(key_pem, password=None)
    except ValueError as exc:
        raise MediaError(f"the signing certificate or key is not valid PEM: {exc}") from exc
    at = now or datetime.now(UTC)
    for cert in certs:
        subject = cert.subject.rfc4514_string()
        if cert.not_valid_after_utc < at:
            raise MediaError(
                f"the signing certificate {subject} in {config.cert_chain} expired on "
                f"{cert.not_valid_after_utc:%Y-%m-%d}"
            )
        if cert.not_valid_before_utc > at:
            raise MediaError(
                f"the signing certificate {subject} in {config.cert_chain} is not valid before "
                f"{cert.not_valid_before_utc:%Y-%m-%d}"
            )
    wanted = ec.EllipticCurvePrivateKey if config.algorithm == "es256" else rsa.RSAPrivateKey
    if not isinstance(key, wanted):
        raise MediaError(f"{config.private_key} is not a key for {config.algorithm.upper()}")
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if certs[0].public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise MediaError(
            f"{config.private_key} does not belong to the first certificate of {config.cert_chain}"
        )
    return chain, key_pem


# ------------------------------------------------------------------- sign and read


def manifest_for(facts: ProvenanceFacts) -> dict[str, Any]:
    """The manifest definition c2pa's Builder signs."""
    return {
        "claim_generator_info": [{"name": "clipdesk", "version": _version()}],
        "title": f"clipdesk render {facts.render_id}",
        "format": "video/mp4",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                            "softwareAgent": {"name": f"{facts.provider}/{facts.model}"},
                        }
                    ]
                },
            },
            {"label": ASSERTION_LABEL, "data": facts.to_dict()},
        ],
    }


def sign_clip(source: Path, dest: Path, facts: ProvenanceFacts, config: SignerConfig) -> SignedClip:
    """Embed a signed manifest in ``source``, writing ``dest`` (which may not be ``source``).

    Raises:
        MediaError: bad or expired credentials, or c2pa refused the file.
    """
    if source.resolve() == dest.resolve():
        raise MediaError(f"cannot sign {source.name} in place; give another destination")
    c2pa = _c2pa()
    chain, key_pem = check_signer(config)
    algorithm = getattr(c2pa.C2paSigningAlg, config.algorithm.upper())
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(algorithm, chain, key_pem, config.tsa_url))
        with (
            signer,
            c2pa.Builder(manifest_for(facts)) as builder,
            source.open("rb") as src,
            dest.open("w+b") as out,
        ):
            builder.sign(signer, "video/mp4", src, out)
        with c2pa.Reader(str(dest)) as reader:
            label = str((reader.get_active_manifest() or {}).get("label", ""))
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
    )


def write_sidecar(
    clip: Path, facts: ProvenanceFacts, signed: SignedClip | None, extra: dict[str, Any] | None = None
) -> Path:
    """Write ``<clip>.provenance.json`` with the manifest's facts, for tools that cannot read C2PA."""
    sidecar = clip.with_name(f"{clip.stem}.provenance.json")
    data: dict[str, Any] = {
        "clip": clip.name,
        "sha256": signed.sha256 if signed else sha256_file(clip),
        "claim_generator": "clipdesk",
        "action": "c2pa.created",
        "digital_source_type": TRAINED_ALGORITHMIC_MEDIA,
        "c2pa_manifest": signed.manifest_label if signed else None,
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
