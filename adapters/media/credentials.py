"""The operator's C2PA signing credentials: load and check them, or make a local development chain.

c2pa refuses an expired, not-yet-valid or mismatched chain with a terse error deep in a
signing call; :func:`check_signer` refuses the same at start-up and names the cause.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bot.errors import MediaError

ALGORITHMS = ("es256", "ps256")


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
