"""A server never reaches another server's requests; a decision made outside Discord still shows in it."""

from __future__ import annotations

from pathlib import Path

from bot.commands import Caller, Decide
from bot.domain import Decision, ReplyTarget, RequestStatus
from bot.events import Actor
from tests.discord.conftest import World, start_bot
from tests.fakes.discord import EPHEMERAL

R = RequestStatus


async def test_an_approver_of_another_server_finds_nothing_and_changes_nothing(
    world: World, tmp_path: Path, sqlite_url: str
) -> None:
    fake = world.fake
    other = fake.add_guild("another school")
    their_approvers = fake.add_role("Approvers", other)  # same role name, another server
    intruder = fake.add_member("intruder", their_approvers, guild=other)
    bot = await start_bot(world, tmp_path, sqlite_url, discord_guild_ids=f"{fake.guild.id},{other.id}")
    try:
        request, clip = await bot.ready_for_review()
        # A click from the other server carrying this server's custom id (request and render ids).
        button = clip.button("Approve")
        data = {"custom_id": button["custom_id"], "component_type": 2}
        forged = fake._interaction(3, intruder, fake.text_channel(other), data, clip)
        await fake.send_interaction(forged)
        await fake.wait_for(lambda: forged.followups or forged.callbacks[1:], what="the refusal")
        said = [m.content for m in forged.followups]
        assert any("I can't find that video request" in s for s in said)
        assert all(m.flags & EPHEMERAL for m in forged.followups)
        after = await bot.app.store.requests.get_request(request.id)
        assert after is not None and after.status == R.IN_REVIEW
        assert clip.buttons()  # still undecided
    finally:
        await bot.stop()


async def test_a_decision_made_through_the_use_case_updates_the_clip_message(
    world: World, tmp_path: Path, sqlite_url: str
) -> None:
    bot = await start_bot(world, tmp_path, sqlite_url)
    try:
        request, clip = await bot.ready_for_review()
        lead = Actor(str(world.lead.id), f"<@{world.lead.id}>", frozenset({"Approvers"}))
        where = ReplyTarget("discord", str(world.fake.guild.id), str(world.channel.id))
        # No interaction at all: another entry point (the API, the review page) decides.
        await bot.app.usecases.decisions.decide(Decide(Caller(lead, where), request.id, Decision.APPROVED))
        await bot.run_until(request.id, [R.APPROVED])
        await world.fake.wait_for(lambda: clip.content.startswith("✅ approved by"), what="the edit")
        assert clip.content.startswith(f"✅ approved by {world.lead.mention}")
        assert all(b.get("disabled") for b in clip.buttons()) or not clip.buttons()
    finally:
        await bot.stop()
