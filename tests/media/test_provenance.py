"""C2PA provenance: a signed clip reads back as AI-made, intact and signed by the operator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.media.provenance import (
    TRAINED_ALGORITHMIC_MEDIA,
    DevCredentials,
    ProvenanceFacts,
    SignerConfig,
    create_dev_certificates,
    read_provenance,
    sha256_file,
    sign_clip,
    write_sidecar,
)
from bot.errors import MediaError
from tests.fakes.media import decode_to_end
from tests.media.clips import moving, write_clip

FACTS = ProvenanceFacts(
    render_id="rnd_1",
    request_id="req_1",
    provider="animatic",
    model="animatic-v1",
    brief_digest="ab" * 32,
    brief_version=2,
    requester="U123",
    approver="U999",
    platform="slack",
)


@pytest.fixture(scope="module")
def creds(tmp_path_factory: pytest.TempPathFactory) -> DevCredentials:
    return create_dev_certificates(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "clip.mp4", moving(), seconds=1)


def test_a_signed_clip_validates_and_says_it_is_ai_made(
    creds: DevCredentials, clip: Path, tmp_path: Path
) -> None:
    signed = sign_clip(clip, tmp_path / "signed.mp4", FACTS, creds.signer)

    check = read_provenance(signed.path)

    assert check.validates and check.state == "Valid"
    assert check.failures == ("signingCredential.untrusted",)  # a dev root is on no trust list
    assert check.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert check.manifest_label == signed.manifest_label
    assert check.facts is not None
    assert check.facts["requester"] == "U123" and check.facts["approver"] == "U999"
    assert check.facts["brief_digest"] == "ab" * 32 and check.facts["provider"] == "animatic"
    assert signed.sha256 == sha256_file(signed.path)
    assert decode_to_end(signed.path).frames == 24  # still the same playable clip


def test_with_the_dev_root_as_trust_anchor_the_clip_is_trusted(
    creds: DevCredentials, clip: Path, tmp_path: Path
) -> None:
    signed = sign_clip(clip, tmp_path / "signed.mp4", FACTS, creds.signer)

    check = read_provenance(signed.path, trust_anchors=creds.root)

    assert check.state == "Trusted" and check.trusted and check.failures == ()


def test_a_tampered_clip_no_longer_validates(creds: DevCredentials, clip: Path, tmp_path: Path) -> None:
    signed = sign_clip(clip, tmp_path / "signed.mp4", FACTS, creds.signer)
    data = bytearray(signed.path.read_bytes())
    data[data.index(b"mdat") + 100] ^= 0xFF
    signed.path.write_bytes(bytes(data))

    check = read_provenance(signed.path)

    assert not check.validates and check.state == "Invalid"
    assert "assertion.bmffHash.mismatch" in check.failures


def test_a_clip_without_a_manifest_does_not_validate(clip: Path) -> None:
    check = read_provenance(clip)

    assert check.state == "missing" and not check.validates


def test_ps256_with_an_rsa_chain_also_validates(clip: Path, tmp_path: Path) -> None:
    rsa = create_dev_certificates(tmp_path / "rsa", algorithm="ps256")

    signed = sign_clip(clip, tmp_path / "signed.mp4", FACTS, rsa.signer)

    assert read_provenance(signed.path, trust_anchors=rsa.root).trusted


def test_an_expired_certificate_is_a_media_error_naming_it(clip: Path, tmp_path: Path) -> None:
    old = create_dev_certificates(tmp_path / "old", days=30, valid_from=datetime(2020, 1, 1, tzinfo=UTC))

    with pytest.raises(MediaError, match=r"signing certificate .*signer in .*chain\.pem expired"):
        sign_clip(clip, tmp_path / "signed.mp4", FACTS, old.signer)
    assert not (tmp_path / "signed.mp4").exists()


def test_a_key_that_does_not_match_the_certificate_is_refused(
    creds: DevCredentials, clip: Path, tmp_path: Path
) -> None:
    other = create_dev_certificates(tmp_path / "other")
    mixed = SignerConfig(creds.signer.cert_chain, other.signer.private_key)

    with pytest.raises(MediaError, match="does not belong"):
        sign_clip(clip, tmp_path / "signed.mp4", FACTS, mixed)


def test_the_dev_key_is_readable_only_by_its_owner(creds: DevCredentials) -> None:
    assert creds.signer.private_key.stat().st_mode & 0o077 == 0


def test_the_sidecar_repeats_the_manifest_facts(creds: DevCredentials, clip: Path, tmp_path: Path) -> None:
    signed = sign_clip(clip, tmp_path / "signed.mp4", FACTS, creds.signer)

    sidecar = write_sidecar(signed.path, FACTS, signed, {"qc": []})

    assert sidecar == tmp_path / "signed.provenance.json"
    data = json.loads(sidecar.read_text())
    assert data["sha256"] == signed.sha256
    assert data["c2pa_manifest"] == signed.manifest_label
    assert data["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA
    assert data["claim_generator"] == "clipdesk"
    assert {k: data[k] for k in FACTS.to_dict()} == FACTS.to_dict()
