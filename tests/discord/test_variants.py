"""Variants on Discord: one contact sheet of the takes with a Pick button each; a pick goes to review."""

from __future__ import annotations

from bot.domain import RenderStatus, RequestStatus
from tests.discord.conftest import Bot, messages_in
from tests.fakes.discord import DEFERRED_UPDATE_MESSAGE

R = RequestStatus


async def test_two_takes_come_with_one_contact_sheet_and_pick_1_goes_to_review(bot: Bot) -> None:
    fake, world = bot.fake, bot.world
    request = await bot.ask(prompt="a red kite over a hill", seconds=4, variants=2)
    done = await bot.run_until(request.id, [R.IN_REVIEW])
    thread = int(done.target.thread or 0)
    [sheet] = [m for m in messages_in(fake, thread) if "takes side by side" in m.content]
    [attachment] = sheet.attachments
    assert attachment["filename"].endswith(".png")
    assert sheet.files[attachment["id"]].startswith(b"\x89PNG")
    assert [b["label"] for b in sheet.buttons()] == ["Pick #1", "Pick #2"]

    click = await fake.click(sheet, "Pick #1", world.requester)
    assert (await fake.wait_callback(click))["type"] == DEFERRED_UPDATE_MESSAGE
    await fake.wait_for(
        lambda: any(
            m.content.startswith("🎬 Your clip is ready for review") for m in messages_in(fake, thread)
        ),
        what="the picked take in review",
    )
    await bot.run_until(request.id, [R.IN_REVIEW])
    takes = sorted(await bot.app.store.renders.renders_for(request.id), key=lambda r: r.variant)
    assert [r.status for r in takes] == [RenderStatus.READY, RenderStatus.CANCELLED]  # #2 archived
    [review] = [
        m for m in messages_in(fake, thread) if m.content.startswith("🎬 Your clip is ready for review")
    ]
    click = await fake.click(review, "Approve", world.lead)
    await bot.run_until(request.id, [R.APPROVED])
    assert fake.unhandled == []
