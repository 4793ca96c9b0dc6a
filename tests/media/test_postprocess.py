"""The post-processor end to end: QC, watermark, C2PA and sidecar on a small clip."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.media.postprocess import MediaPostProcessor
from adapters.media.provenance import create_dev_certificates, read_provenance, sha256_file
from bot.domain import Brief, Render, ReplyTarget, RequestOptions, Shot, VideoRequest
from bot.errors import MediaError
from bot.ports import PostProcessor
from tests.fakes.media import decode_to_end
from tests.media.clips import moving, with_frozen, write_clip

REQUEST = VideoRequest(
    id="req_1",
    target=ReplyTarget("slack", "T1", "C1", "1700000000.0001"),
    requester="U123",
    raw_text="a steel water bottle",
    options=RequestOptions(seconds=2),
)
BRIEF = Brief(
    request_id="req_1",
    version=1,
    prompt="A steel water bottle.",
    subject="a steel water bottle",
    setting="kitchen",
    style="clean",
    lighting="daylight",
    camera="dolly in",
    negative_prompt="",
    seconds=2,
    aspect="16:9",
    shots=(Shot(1, 2.0, "The bottle on a counter", "dolly in"),),
)


def render(seconds: int = 2) -> Render:
    return Render(
        id="rnd_1",
        request_id="req_1",
        brief_id=BRIEF.id,
        brief_version=1,
        provider="animatic",
        model="animatic-v1",
        seconds=seconds,
        size="320x180",
    )


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
    post = MediaPostProcessor(tmp_path / "clips", watermark_enabled=False)

    result = post.process_now(render(), BRIEF, REQUEST, clip)

    assert result.path.read_bytes() == clip.read_bytes()
    assert result.provenance_digest == sha256_file(clip)


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
