"""The post-processor end to end: QC, watermark, C2PA and sidecar on a small clip."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.media import postprocess
from adapters.media.postprocess import MediaPostProcessor
from adapters.media.provenance import create_dev_certificates, read_provenance, sha256_file
from bot.domain import Render
from bot.errors import MediaError
from bot.ports import PostProcessor, SourceType
from tests.fakes.media import decode_to_end
from tests.media.clips import bottle_ask, moving, with_frozen, write_clip

REQUEST, BRIEF, _ = bottle_ask(2)


def render(seconds: int = 2) -> Render:
    return bottle_ask(seconds)[2]


async def test_a_clip_is_checked_marked_signed_and_filed(tmp_path: Path) -> None:
    creds = create_dev_certificates(tmp_path / "keys")
    clip = write_clip(tmp_path / "downloads" / "rnd_1.mp4", moving(), seconds=2)
    post = MediaPostProcessor(
        tmp_path / "clips", cert_chain=creds.signer.cert_chain, private_key=creds.signer.private_key
    )
    port: PostProcessor = post  # the core sees only the port
    try:
        result = await port.process(render(), BRIEF, REQUEST, clip)
    finally:
        post.close()

    assert result.path == tmp_path / "clips" / "rnd_1.mp4"
    assert result.findings == () and not result.hard_failure
    assert result.seconds == pytest.approx(2.0, abs=0.01)
    assert result.provenance_digest == sha256_file(result.path)
    assert decode_to_end(result.path).frames == 48
    check = read_provenance(result.path, trust_anchors=creds.root)
    assert check.trusted and check.facts is not None
    assert check.facts["requester"] == "U123" and check.facts["brief_digest"] == BRIEF.digest
    sidecar = json.loads((tmp_path / "clips" / "rnd_1.provenance.json").read_text())
    assert sidecar["sha256"] == result.provenance_digest
    assert sidecar["watermark"]["position"] == "bottom-right" and sidecar["qc"] == []
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == ["rnd_1.mp4", "rnd_1.provenance.json"]


async def test_qc_findings_travel_with_the_clip(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "in.mp4", with_frozen(moving(), 0, 36), seconds=2)
    post = MediaPostProcessor(tmp_path / "clips", clip_path=lambda r: tmp_path / "x" / "out.mp4")
    try:
        result = await post.process(render(), BRIEF, REQUEST, clip)
    finally:
        post.close()

    assert result.path == tmp_path / "x" / "out.mp4"
    assert result.findings == ("1.5 s frozen at 0:00",)
    assert result.hard_failure  # frozen for three quarters of the clip
    sidecar = json.loads((tmp_path / "x" / "out.provenance.json").read_text())
    assert sidecar["qc"][0]["kind"] == "frozen" and sidecar["c2pa_manifest"] is None


async def test_an_undecodable_clip_fails_with_the_reason_and_files_nothing(
    tmp_path: Path,
) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"<html>rate limited</html>")
    post = MediaPostProcessor(tmp_path / "clips")
    try:
        with pytest.raises(MediaError, match="the clip from animatic cannot be opened"):
            await post.process(render(), BRIEF, REQUEST, junk)
    finally:
        post.close()
    assert not (tmp_path / "clips").exists() or not any((tmp_path / "clips").iterdir())


def test_without_watermark_or_signer_the_clip_is_filed_unchanged(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "in.mp4", moving(), seconds=2)
    original = clip.read_bytes()
    post = MediaPostProcessor(tmp_path / "clips", watermark_enabled=False)

    result = post.process_now(render(), BRIEF, REQUEST, clip)

    assert result.path.read_bytes() == original
    assert result.provenance_digest == hashlib.sha256(original).hexdigest()


def test_qc_reads_the_frames_the_watermark_pass_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def second_decode(*args: object, **kwargs: object) -> None:
        raise AssertionError("QC decoded the clip a second time")

    monkeypatch.setattr(postprocess, "inspect_clip", second_decode)
    clip = write_clip(tmp_path / "in.mp4", with_frozen(moving(), 0, 36), seconds=2)
    post = MediaPostProcessor(tmp_path / "clips")

    result = post.process_now(render(), BRIEF, REQUEST, clip)

    assert result.findings == ("1.5 s frozen at 0:00",) and result.hard_failure
    assert decode_to_end(result.path).frames == 48


def test_only_the_final_clip_is_kept_unless_originals_are_kept(tmp_path: Path) -> None:
    download = write_clip(tmp_path / "downloads" / "rnd_1.mp4", moving(), seconds=2)
    post = MediaPostProcessor(tmp_path / "clips")

    result = post.process_now(render(), BRIEF, REQUEST, download)

    assert not download.exists()
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == ["rnd_1.mp4", "rnd_1.provenance.json"]
    kept = write_clip(tmp_path / "downloads" / "rnd_1.mp4", moving(), seconds=2)
    MediaPostProcessor(tmp_path / "again", keep_original=True).process_now(render(), BRIEF, REQUEST, kept)
    assert kept.exists() and result.path.exists()


def test_a_worker_that_died_after_filing_gets_the_filed_clip_back(tmp_path: Path) -> None:
    download = write_clip(tmp_path / "downloads" / "rnd_1.mp4", with_frozen(moving(), 0, 36), seconds=2)
    post = MediaPostProcessor(tmp_path / "clips")
    first = post.process_now(render(), BRIEF, REQUEST, download)
    assert not download.exists()

    again = post.process_now(render(), BRIEF, REQUEST, download)  # the download is gone

    assert again == first


def test_a_storyboard_preview_is_labelled_as_algorithmic_media_not_ai_video(tmp_path: Path) -> None:
    creds = create_dev_certificates(tmp_path / "keys")
    clip = write_clip(tmp_path / "in.mp4", moving(), seconds=2)
    post = MediaPostProcessor(
        tmp_path / "clips",
        cert_chain=creds.signer.cert_chain,
        private_key=creds.signer.private_key,
        source_type_for=lambda r: SourceType.ALGORITHMIC if r.provider == "animatic" else SourceType.TRAINED,
    )

    result = post.process_now(render(), BRIEF, REQUEST, clip)

    check = read_provenance(result.path, trust_anchors=creds.root)
    assert check.trusted
    assert check.digital_source_type == "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"
    sidecar = json.loads(result.path.with_name("rnd_1.provenance.json").read_text())
    assert sidecar["digital_source_type"].endswith("/algorithmicMedia")
    assert sidecar["watermark"]["text"] == "Storyboard preview · clipdesk"
    trained = MediaPostProcessor(
        tmp_path / "sora", cert_chain=creds.signer.cert_chain, private_key=creds.signer.private_key
    )
    other = trained.process_now(render(), BRIEF, REQUEST, write_clip(tmp_path / "b.mp4", moving(), seconds=2))
    assert read_provenance(other.path).digital_source_type.endswith("/trainedAlgorithmicMedia")  # type: ignore[union-attr]
    assert json.loads(other.path.with_name("rnd_1.provenance.json").read_text())["watermark"]["text"] == (
        "AI-generated · clipdesk"
    )


def test_a_clip_that_stops_decoding_part_way_fails_and_files_nothing(tmp_path: Path) -> None:
    whole = write_clip(tmp_path / "whole.mp4", moving(), seconds=3)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    post = MediaPostProcessor(tmp_path / "clips")

    with pytest.raises(MediaError, match="the clip from animatic"):
        post.process_now(render(3), BRIEF, REQUEST, cut)

    assert cut.exists()  # kept for a retry or a look
    assert not (tmp_path / "clips").exists() or not any((tmp_path / "clips").iterdir())


def test_bad_settings_fail_at_start_up_naming_the_cause(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_text("not an image")
    old = create_dev_certificates(tmp_path / "old", days=1, valid_from=datetime(2020, 1, 1, tzinfo=UTC))

    with pytest.raises(MediaError, match=r"logo\.png is not a readable image"):
        MediaPostProcessor(tmp_path, watermark_logo=logo)
    with pytest.raises(MediaError, match="expired on 2020-01-0"):
        MediaPostProcessor(tmp_path, cert_chain=old.signer.cert_chain, private_key=old.signer.private_key)
    with pytest.raises(MediaError, match="both a certificate chain and a private key"):
        MediaPostProcessor(tmp_path, cert_chain=old.signer.cert_chain)
