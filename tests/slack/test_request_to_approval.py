"""`/video` in a channel → the clip in its thread → an approval, through Bolt in both modes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.domain import Brief, RequestStatus
from bot.ports import Clarification, RefineInput
from bot.refiner import OfflineRefiner
from tests.fakes.media import decode_to_end
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import CHANNEL, LEAD, REQUESTER, Bed, start_bed

R = RequestStatus
DECISION_BUTTONS = ["clipdesk_approve", "clipdesk_regenerate", "clipdesk_edit", "clipdesk_reject"]


def _playable_copy_of(original: Path, uploaded: bytes, scratch: Path) -> bool:
    """The bytes Slack received are the clip, whole, and they decode to the last frame."""
    scratch.write_bytes(uploaded)
    return original.read_bytes() == uploaded and decode_to_end(scratch).frames > 0


async def test_video_command_goes_from_ack_to_an_approved_clip_in_its_thread(
    any_bed: Bed, tmp_path: Path
) -> None:
    bed, fake = any_bed, any_bed.fake
    status, ack = await bed.video("a product demo of our steel water bottle, 4 seconds, vertical")

    # Slack gets its answer at once: an ephemeral "on it" for the requester only.
    assert status == 200
    assert ack == {"text": "🎬 on it…", "response_type": "ephemeral"}

    # The parent message in the channel, then the brief in its thread.
    parent = bed.parent()
    assert parent.text.startswith(f"🎬 video request from <@{REQUESTER}>: a product demo of our steel")
    brief, status_line = bed.replies(parent)
    assert "Brief v1" in brief.text and "steel water bottle" in brief.all_text()
    assert "Duration*\n4s" in brief.all_text() and "9:16" in brief.all_text()
    assert brief.buttons() == []  # a free render starts without the Render click
    assert status_line.text.startswith("⏳ Queued")

    request = await bed.request_in(parent)
    await bed.run_until(request.id, [R.IN_REVIEW])

    # One status line, updated in place; the clip and its buttons in the same thread.
    brief, status_line, clip_message = bed.replies(parent)
    assert len(status_line.versions) > 1 and "review below" in status_line.all_text()
    shown = [text for text, _ in status_line.versions]
    assert any(text.startswith("🎞️ Rendering") for text in shown)
    assert any("▓" in str(blocks) and "%" in str(blocks) for _, blocks in status_line.versions)
    assert clip_message.text.startswith("🎬 Your clip is ready for review (v1)")
    assert [b["action_id"] for b in clip_message.buttons()] == DECISION_BUTTONS
    render_id = (await bed.app.store.renders.renders_for(request.id))[0].id
    assert {b["value"] for b in clip_message.buttons()} == {f"{request.id}:{render_id}"}

    # files_upload_v2: getUploadURLExternal → the bytes → completeUploadExternal into the thread.
    methods = [c.method for c in fake.calls if c.status == 200]
    upload_steps = [m for m in methods if m.startswith("files.")]
    assert upload_steps == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    (uploaded,) = fake.files.values()
    assert uploaded.channel == CHANNEL and uploaded.thread_ts == parent.ts
    render = await bed.app.store.renders.get_render(render_id)
    assert render is not None and render.clip_path is not None
    assert uploaded.data is not None
    assert _playable_copy_of(Path(render.clip_path), uploaded.data, tmp_path / "uploaded.mp4")
    # The details come after the file, so the buttons sit under the clip.
    posts = [(c.method, str(c.params.get("text", ""))) for c in fake.calls if c.status == 200]
    details = next(i for i, (m, text) in enumerate(posts) if text.startswith("🎬 Your clip is ready"))
    assert posts[details][0] == "chat.postMessage"
    assert methods.index("files.completeUploadExternal") < details

    # The lead approves: the same message now says so, and its buttons are gone.
    posts_before = len(fake.calls_to("chat.postMessage"))
    status, ack = await bed.click(clip_message, "approve", user=LEAD)
    assert status == 200
    assert f"approved by <@{LEAD}>" in clip_message.text
    assert clip_message.buttons() == []
    assert len(fake.calls_to("chat.postMessage")) == posts_before
    approved = await bed.app.store.requests.get_request(request.id)
    assert approved is not None and approved.status == R.APPROVED
    assert (await bed.audit_kinds()).count("review.approved") == 1


class GatedRefiner:
    """The offline refiner, held until the test opens the gate: the core is "slow" for as long as we like."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def refine(self, data: RefineInput) -> Brief | Clarification:
        self.waiting.set()
        await self.gate.wait()
        return await OfflineRefiner().refine(data)


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_the_ack_does_not_wait_for_the_core(
    tmp_path: Path, sqlite_url: str, fake: FakeSlack, mode: str
) -> None:
    refiner = GatedRefiner()
    bed = await start_bed(tmp_path, sqlite_url, fake, mode=mode, refiner=refiner)
    try:
        status, ack = await bed.deliver(
            fake.build_command("a 4s clip of a red kite", user=REQUESTER, channel=CHANNEL)
        )
        # Slack has its answer while the core is still busy with the request.
        assert status == 200 and ack == {"text": "🎬 on it…", "response_type": "ephemeral"}
        await asyncio.wait_for(refiner.waiting.wait(), 10)
        assert bed.platform.sink is not None and bed.platform.sink.pending == 1
        await bed.app.deliverer.drain()  # the thread opens while the brief is being written
        assert [m.headline for m in bed.replies(bed.parent())] == []

        refiner.gate.set()
        await bed.settle()
        assert bed.replies(bed.parent())[0].headline == "📝 Brief v1"
    finally:
        await bed.close()
