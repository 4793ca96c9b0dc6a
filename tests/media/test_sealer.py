"""Approval re-signs the reviewed clip in place: one file, the approver named, the label kept."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.media.factory import ApprovalSealer
from adapters.media.postprocess import MediaPostProcessor
from adapters.media.provenance import create_dev_certificates, read_provenance, sha256_file
from bot.ports import SourceType
from tests.media.clips import moving, write_clip
from tests.media.test_postprocess import BRIEF, REQUEST, render


async def test_the_sealed_clip_replaces_the_reviewed_one_and_keeps_its_label(tmp_path: Path) -> None:
    creds = create_dev_certificates(tmp_path / "keys")
    post = MediaPostProcessor(
        tmp_path / "clips",
        cert_chain=creds.signer.cert_chain,
        private_key=creds.signer.private_key,
        source_type_for=lambda r: SourceType.ALGORITHMIC,
    )
    clip = write_clip(tmp_path / "in.mp4", moving(), seconds=2)
    reviewed = post.process_now(render(), BRIEF, REQUEST, clip)
    sealer = ApprovalSealer(creds.signer)  # knows nothing of providers: the sidecar tells it
    filed = render()
    filed.clip_path = str(reviewed.path)

    sealed = await sealer.seal(filed, BRIEF, REQUEST, "U_LEAD")

    assert sealed.path == reviewed.path
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == ["rnd_1.mp4", "rnd_1.provenance.json"]
    assert sealed.provenance_digest == sha256_file(sealed.path) != reviewed.provenance_digest
    check = read_provenance(sealed.path, trust_anchors=creds.root)
    assert check.trusted and check.facts is not None and check.facts["approver"] == "U_LEAD"
    assert check.digital_source_type is not None and check.digital_source_type.endswith("/algorithmicMedia")
    assert check.ingredients == ("reviewed clip",)
    sidecar = json.loads(sealed.path.with_name("rnd_1.provenance.json").read_text())
    assert sidecar["approved"] and sidecar["approver"] == "U_LEAD" and sidecar["qc"] == []
    assert sidecar["sha256"] == sealed.provenance_digest
