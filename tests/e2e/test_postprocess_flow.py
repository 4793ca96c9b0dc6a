"""Every delivered clip goes through QC, the watermark and C2PA; approval seals the approver in."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.media.factory import approval_sealer, postprocessor
from adapters.media.provenance import read_provenance
from bot.domain import RenderStatus, RequestStatus
from bot.messages import Action
from storage.media import LocalMediaStore
from tests.support.harness import LEAD, make_harness, test_settings
from tests.support.providers import FileJobProvider

R = RequestStatus


async def media_harness(tmp_path: Path, db_url: str, provider: FileJobProvider):  # type: ignore[no-untyped-def]
    settings = test_settings(tmp_path, db_url, watermark=True)
    media = LocalMediaStore(settings.media_dir)
    return await make_harness(
        tmp_path,
        db_url,
        providers={"filejob": provider},
        approvers=LEAD.user_id,
        watermark=True,
        post=postprocessor(settings, media),
        sealer=approval_sealer(settings),
    )


async def test_a_clean_clip_is_watermarked_signed_and_the_approval_is_sealed_in(
    tmp_path: Path, db_url: str
) -> None:
    provider = FileJobProvider(tmp_path / "jobs", clip_seconds=4, clip_size="720x720")
    h = await media_harness(tmp_path, db_url, provider)
    try:
        request = await h.ask("a 4s clip of a kite, square")
        assert request is not None
        await h.run_until(request.id, [R.IN_REVIEW])
        clip = h.chat.of_kind("clip")[0]
        assert clip.message.body == ""  # no QC findings on a clean clip
        assert clip.clip is not None
        check = read_provenance(clip.clip)
        assert check.validates and check.facts is not None and "approver" not in check.facts
        await h.press(Action.APPROVE, request, LEAD)
        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.clip_path and Path(render.clip_path) == clip.clip  # sealed in place: one copy
        sealed = read_provenance(Path(render.clip_path))
        assert sealed.validates and sealed.facts is not None and sealed.facts["approver"] == LEAD.user_id
        sidecar = json.loads(Path(render.clip_path).with_name(f"{render.id}.provenance.json").read_text())
        assert sidecar["approver"] == LEAD.user_id and sidecar["sha256"] == render.provenance_digest
    finally:
        await h.close()


async def test_a_clip_that_fails_qc_is_made_once_more_then_shown_with_its_findings(
    tmp_path: Path, db_url: str
) -> None:
    provider = FileJobProvider(tmp_path / "jobs", clip_seconds=1, clip_size="160x90")  # too short, too small
    h = await media_harness(tmp_path, db_url, provider)
    try:
        request = await h.ask("a 4s clip of a kite")
        assert request is not None
        await h.run_until(request.id, [R.IN_REVIEW])
        renders = await h.app.store.renders.renders_for(request.id)
        assert [r.status for r in renders] == [RenderStatus.FAILED, RenderStatus.READY]
        assert (renders[0].failure_reason or "").startswith("QC:")
        assert any("making it once more" in t for t in h.chat.texts())
        body = h.chat.of_kind("clip")[0].message.body
        assert "⚠ lasts 1.00 s, 4 s were asked for" in body and "⚠ is 160x90, 1280x720 was asked for" in body
        assert len(provider.submits()) == 2  # one regenerate, not a loop
    finally:
        await h.close()


async def test_an_undecodable_clip_fails_the_render_with_the_reason(tmp_path: Path, db_url: str) -> None:
    provider = FileJobProvider(tmp_path / "jobs", garbage=True)
    h = await media_harness(tmp_path, db_url, provider)
    try:
        request = await h.ask("a 4s clip of a kite")
        assert request is not None
        failed = await h.run_until(request.id, [R.FAILED])
        assert failed.failure_reason and "cannot be opened" in failed.failure_reason
        assert "failed — retry?" in h.chat.of_kind("post")[-1].message.text
    finally:
        await h.close()
