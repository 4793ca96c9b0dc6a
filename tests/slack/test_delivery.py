"""Getting things into Slack: rate limits, clips too large to upload, and paid renders."""

from __future__ import annotations

from pathlib import Path

from bot.domain import RequestStatus
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import REQUESTER, Bed, start_bed
from tests.support.providers import FileJobProvider

R = RequestStatus


async def test_rate_limited_post_message_is_retried_and_the_message_arrives(bed: Bed) -> None:
    bed.fake.rate_limit("chat.postMessage", times=1, retry_after=0)

    await bed.video("a 4s clip of a red kite over a field")

    statuses = [c.status for c in bed.fake.calls if c.method == "chat.postMessage"]
    assert statuses[:2] == [429, 200]
    assert "red kite" in bed.parent().headline
    assert bed.fake.ephemeral == []  # nothing went wrong from the user's point of view


async def test_a_rate_limited_upload_step_is_retried(bed: Bed) -> None:
    await bed.video("a 4s clip of a red kite over a field")
    request = await bed.request_in(bed.parent())
    bed.fake.rate_limit("files.completeUploadExternal", times=1, retry_after=0)

    await bed.run_until(request.id, [R.IN_REVIEW])

    (uploaded,) = bed.fake.files.values()
    assert uploaded.thread_ts == bed.parent().ts
    assert bed.replies(bed.parent())[-1].headline == "🎬 Your clip is ready for review (v1)"


async def _oversized_bed(
    tmp_path: Path, sqlite_url: str, fake: FakeSlack, max_upload_bytes: int | None = None
) -> Bed:
    return await start_bed(
        tmp_path, sqlite_url, fake, max_upload_bytes=max_upload_bytes, public_url="https://clips.example.com"
    )


async def test_a_clip_over_the_upload_limit_is_linked_with_a_note(
    tmp_path: Path, sqlite_url: str, fake: FakeSlack
) -> None:
    bed = await _oversized_bed(tmp_path, sqlite_url, fake, max_upload_bytes=2048)
    try:
        await bed.video("a 4s clip of a red kite over a field")
        request = await bed.request_in(bed.parent())
        await bed.run_until(request.id, [R.IN_REVIEW])

        assert bed.fake.calls_to("files.getUploadURLExternal") == []
        clip = bed.replies(bed.parent())[-1]
        render = (await bed.app.store.renders.renders_for(request.id))[0]
        assert f"https://clips.example.com/media/clips/{render.id}.mp4" in clip.all_text()
        assert "over the 2 KB upload limit" in clip.all_text() and "linked instead" in clip.all_text()
        # still decided here, like an uploaded clip; a public URL also offers the review page
        assert [b["action_id"] for b in clip.buttons()] == [
            "clipdesk_approve",
            "clipdesk_regenerate",
            "clipdesk_edit",
            "clipdesk_reject",
            "clipdesk_open_review",
        ]
    finally:
        await bed.close()


async def test_a_clip_slack_refuses_as_too_large_is_linked_with_a_note(
    tmp_path: Path, sqlite_url: str, fake: FakeSlack
) -> None:
    fake.upload_limit = 1000
    bed = await _oversized_bed(tmp_path, sqlite_url, fake)
    try:
        await bed.video("a 4s clip of a red kite over a field")
        request = await bed.request_in(bed.parent())
        await bed.run_until(request.id, [R.IN_REVIEW])

        assert len(bed.fake.calls_to("files.getUploadURLExternal")) == 1
        assert bed.fake.calls_to("files.completeUploadExternal") == []
        clip = bed.replies(bed.parent())[-1]
        assert "https://clips.example.com/media/clips/" in clip.all_text()
        assert "Slack refused" in clip.all_text() and "too large" in clip.all_text()
    finally:
        await bed.close()


async def test_a_paid_render_waits_for_the_render_click(
    tmp_path: Path, sqlite_url: str, fake: FakeSlack
) -> None:
    provider = FileJobProvider(tmp_path / "jobs", price=0.1)
    bed = await start_bed(tmp_path, sqlite_url, fake, provider=provider, auto_render_max_cost=0.0)
    try:
        await bed.video("a 4s clip of a red kite over a field")
        parent = bed.parent()
        (brief,) = bed.replies(parent)
        assert [b["action_id"] for b in brief.buttons()] == [
            "clipdesk_render",
            "clipdesk_edit",
            "clipdesk_cancel",
        ]
        assert "Estimated cost*\n$0.40" in brief.all_text()

        await bed.app.worker.claim_once()
        assert provider.submits() == []  # nothing is spent before the click

        await bed.click(brief, "render", user=REQUESTER)
        assert brief.buttons() == []  # the brief can't be rendered twice
        request = await bed.request_in(parent)
        await bed.run_until(request.id, [R.IN_REVIEW])
        assert len(provider.submits()) == 1
        assert bed.replies(parent)[-1].headline == "🎬 Your clip is ready for review (v1)"
    finally:
        await bed.close()


async def test_a_double_click_on_render_starts_one_render(
    tmp_path: Path, sqlite_url: str, fake: FakeSlack
) -> None:
    provider = FileJobProvider(tmp_path / "jobs", price=0.1)
    bed = await start_bed(tmp_path, sqlite_url, fake, provider=provider, auto_render_max_cost=0.0)
    try:
        await bed.video("a 4s clip of a red kite over a field")
        (brief,) = bed.replies(bed.parent())
        clicks = [bed.fake.build_click(brief, "clipdesk_render", user=REQUESTER) for _ in range(2)]

        for click in clicks:
            await bed.deliver(click)
        await bed.settle()

        request = await bed.request_in(bed.parent())
        assert len(await bed.app.store.renders.renders_for(request.id)) == 1
    finally:
        await bed.close()
