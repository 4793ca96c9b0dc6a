"""From `/video` to an approved clip in a Discord thread, with the real discord.py client."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.discord.components import BUTTON_TEMPLATE
from bot.domain import Decision, RequestStatus
from tests.discord.conftest import ASK, Bot, World, briefs_in, clip_message, messages_in, start_bot
from tests.fakes.discord import CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, EPHEMERAL
from tests.fakes.media import decode_to_end

R = RequestStatus
DECISION_BUTTONS = ["Approve", "Regenerate", "Edit prompt", "Reject"]


async def test_video_command_opens_a_thread_renders_and_a_role_holder_approves(bot: Bot) -> None:
    fake, world = bot.fake, bot.world
    command = await fake.slash("video", world.requester, {"prompt": ASK, "seconds": 4, "aspect": "16:9"})

    # Answered at once, only to the requester.
    ack = await fake.wait_callback(command)
    assert ack["type"] == CHANNEL_MESSAGE
    assert ack["data"]["flags"] & EPHEMERAL and "on it" in ack["data"]["content"].lower()

    request = await bot.request_for(world.requester)
    assert request.options.seconds == 4 and request.options.aspect == "16:9"

    # The bot's own message in the channel, and a public thread made from it.
    [parent] = messages_in(fake, world.channel.id)
    assert parent.content.startswith(f"🎬 video request from {world.requester.mention}: {ASK}")
    [thread] = fake.threads(world.channel.id)
    assert thread.id == parent.id and thread.name == f"🎬 {ASK}"
    assert request.target.thread == str(thread.id) and request.target.channel == str(world.channel.id)
    assert fake.calls_to("POST", "/channels/{id}/messages/{id}/threads")

    # The ephemeral answer now points at the thread.
    await fake.wait_for(
        lambda: f"<#{thread.id}>" in (command.original.content if command.original else ""),
        what="the /video answer to link the thread",
    )

    [brief] = briefs_in(fake, thread.id)
    assert brief.content == "📝 Brief v1"
    assert "Duration: 4s" in brief.text() and "Aspect: 16:9 (1280x720)" in brief.text()
    assert f"**Your ask:** {ASK}" in brief.text()
    assert brief.buttons() == []  # free: rendering starts without a click

    done = await bot.run_until(request.id, [R.IN_REVIEW])

    # One status message, edited in place until it says Ready.
    status_ref = await bot.app.store.outbox.message_ref(done.id, "status")
    status_channel, status_id = (int(v) for v in (status_ref or "").split(":"))
    status = fake.messages[status_id]
    assert status_channel == thread.id and status.edits
    assert status.content.startswith("✅ Ready")

    # The clip, attached in the thread through the bot token, with the four buttons.
    clip = clip_message(fake, thread.id)
    [attachment] = clip.attachments
    assert attachment["filename"].endswith(".mp4")
    mp4 = bot.settings.data_dir / "received.mp4"
    mp4.write_bytes(clip.files[attachment["id"]])
    assert decode_to_end(mp4).frames > 0
    assert [b["label"] for b in clip.buttons()] == DECISION_BUTTONS
    assert all(
        BUTTON_TEMPLATE.fullmatch(b["custom_id"]) and len(b["custom_id"]) <= 100 for b in clip.buttons()
    )
    [upload] = [c for c in fake.calls_to("POST", "/channels/{id}/messages") if c.files]
    assert upload.path == f"/channels/{thread.id}/messages"
    assert upload.headers["Authorization"] == f"Bot {fake.token}"

    click = await fake.click(clip, "Approve", world.lead)
    assert (await fake.wait_callback(click))["type"] == DEFERRED_UPDATE_MESSAGE
    await fake.wait_for(
        lambda: clip.content.startswith("✅ approved by"), what="the clip message to be edited"
    )
    assert clip.content.startswith(f"✅ approved by {world.lead.mention}")
    assert [b["label"] for b in clip.buttons()] == DECISION_BUTTONS
    assert all(b["disabled"] for b in clip.buttons())
    assert clip.attachments == [attachment]  # the clip stays on the message

    final = await bot.app.store.requests.get_request(request.id)
    assert final is not None and final.status == R.APPROVED
    kinds = [e.kind.value for e in await bot.app.store.audit.audit_events()]
    assert kinds.count("review.approved") == 1
    approval = next(e for e in await bot.app.store.audit.audit_events() if e.kind == "review.approved")
    assert approval.actor == str(world.lead.id)
    assert fake.unhandled == []


async def test_a_member_without_the_role_is_refused_privately_and_nothing_changes(bot: Bot) -> None:
    fake, world = bot.fake, bot.world
    request, clip = await bot.ready_for_review()
    edits_before = len(clip.edits)

    click = await fake.click(clip, "Approve", world.stranger)
    assert (await fake.wait_callback(click))["type"] == DEFERRED_UPDATE_MESSAGE
    await fake.wait_for(lambda: click.followups, what="the refusal")
    [refusal] = click.followups
    assert refusal.flags & EPHEMERAL
    assert "Only approvers" in refusal.content

    after = await bot.app.store.requests.get_request(request.id)
    assert after is not None and after.status == R.IN_REVIEW
    assert len(clip.edits) == edits_before
    assert not any(b.get("disabled") for b in clip.buttons())
    assert "review.approved" not in [e.kind for e in await bot.app.store.audit.audit_events()]


async def test_a_double_click_records_one_decision(bot: Bot) -> None:
    fake, world = bot.fake, bot.world
    request, clip = await bot.ready_for_review()

    first, second = await asyncio.gather(
        fake.click(clip, "Approve", world.lead), fake.click(clip, "Approve", world.lead)
    )
    await fake.wait_for(lambda: first.followups or second.followups, what="the second click's answer")
    [late] = first.followups + second.followups
    assert late.flags & EPHEMERAL and "already approved" in late.content

    kinds = [e.kind.value for e in await bot.app.store.audit.audit_events()]
    assert kinds.count("review.approved") == 1
    final = await bot.app.store.requests.get_request(request.id)
    assert final is not None and final.status == R.APPROVED
    reviews = [e for e in await bot.app.store.audit.audit_events() if e.kind.startswith("review.")]
    assert [e.kind for e in reviews] == [f"review.{Decision.APPROVED.value}"]


async def test_the_approve_button_still_works_after_a_restart(
    world: World, tmp_path: Path, sqlite_url: str
) -> None:
    first = await start_bot(world, tmp_path, sqlite_url)
    request, clip = await first.ready_for_review()
    await first.stop()

    # A fresh client and App on the same database; Discord still shows the old message.
    second = await start_bot(world, tmp_path, sqlite_url)
    try:
        click = await world.fake.click(clip, "Approve", world.lead)
        assert (await world.fake.wait_callback(click))["type"] == DEFERRED_UPDATE_MESSAGE
        await world.fake.wait_for(lambda: clip.content.startswith("✅ approved by"), what="the approval")
        assert all(b["disabled"] for b in clip.buttons())
        final = await second.app.store.requests.get_request(request.id)
        assert final is not None and final.status == R.APPROVED
    finally:
        await second.stop()
