"""What Discord sees of the bot: command sync, intents, shards, and the smaller commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.commands import HELP
from bot.domain import RequestStatus
from tests.discord.conftest import ASK, Bot, World, assert_discord_was_used_correctly, briefs_in, start_bot
from tests.fakes.discord import (
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    EPHEMERAL,
    PRIVILEGED_INTENTS,
    FakeDiscord,
)
from tests.support.providers import FileJobProvider

R = RequestStatus


def options_of(command: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in command.get("options", [])}


async def test_commands_sync_to_the_configured_guild_with_choices_from_the_providers(bot: Bot) -> None:
    fake = bot.fake
    [put] = fake.calls_to("PUT", "/applications/{id}/guilds/{id}/commands")
    assert put.path == f"/applications/{fake.app_id}/guilds/{fake.guild.id}/commands"
    assert fake.calls_to("PUT", "/applications/{id}/commands") == []  # nothing global
    names = sorted(c["name"] for c in put.body)
    assert names == ["video", "video-cancel", "video-help", "video-status", "video-usage"]

    video = fake.command("video", fake.guild.id)
    options = options_of(video)
    assert list(options) == ["prompt", "seconds", "aspect", "provider", "variants", "audience", "captions"]
    assert options["prompt"]["required"] is True and options["prompt"]["type"] == 3
    assert [c["value"] for c in options["seconds"]["choices"]] == [2, 4, 8, 12]  # FileJobProvider's durations
    assert [c["value"] for c in options["aspect"]["choices"]] == ["16:9", "1:1", "9:16"]
    assert [c["value"] for c in options["provider"]["choices"]] == ["filejob"]
    assert (options["variants"]["min_value"], options["variants"]["max_value"]) == (1, 4)
    assert options["audience"]["type"] == 3 and options["audience"]["max_length"] == 80
    assert (
        options["captions"]["type"] == 3 and "choices" not in options["captions"]
    )  # burn, off or a language


async def test_without_guild_ids_commands_sync_globally(
    world: World, tmp_path: Path, sqlite_url: str
) -> None:
    bot = await start_bot(world, tmp_path, sqlite_url, discord_guild_ids="")
    try:
        [put] = world.fake.calls_to("PUT", "/applications/{id}/commands")
        assert "video" in [c["name"] for c in put.body]
        assert world.fake.calls_to("PUT", "/applications/{id}/guilds/{id}/commands") == []
    finally:
        await bot.stop()


async def test_the_bot_identifies_without_privileged_intents(bot: Bot) -> None:
    [identify] = bot.fake.identifies
    assert identify["intents"] & PRIVILEGED_INTENTS == 0
    assert identify["intents"] & 1  # guilds: roles and channels


async def test_video_status_answers_privately_after_a_deferral(bot: Bot) -> None:
    fake, world = bot.fake, bot.world
    request = await bot.ask(seconds=4)
    lookup = await fake.slash("video-status", world.requester)
    ack = await fake.wait_callback(lookup)
    assert ack["type"] == DEFERRED_CHANNEL_MESSAGE and ack["data"]["flags"] & EPHEMERAL
    await fake.wait_for(lambda: lookup.followups, what="the status answer")
    [answer] = lookup.followups
    assert answer.content == "Your open video requests" and request.id in answer.text()


async def test_video_help_explains_the_discord_options(bot: Bot) -> None:
    lookup = await bot.fake.slash("video-help", bot.world.stranger)
    ack = await bot.fake.wait_callback(lookup)
    assert ack["type"] == CHANNEL_MESSAGE and ack["data"]["flags"] & EPHEMERAL
    assert ack["data"]["content"] == HELP and "/video prompt:" in HELP


async def test_invalid_options_are_explained_only_to_the_requester(bot: Bot) -> None:
    fake, world = bot.fake, bot.world
    command = await fake.slash("video", world.requester, {"prompt": "a bottle demo --seconds 5"})
    # The explanation is the command's only answer: nothing was recorded, so there is no "on it".
    answer = await fake.wait_callback(command)
    assert answer["type"] == CHANNEL_MESSAGE and answer["data"]["flags"] & EPHEMERAL
    assert "can make clips of 2, 4, 8, 12 seconds, not 5" in answer["data"]["content"]
    assert command.followups == [] and fake.threads() == []


async def test_a_form_the_core_opens_too_late_becomes_a_private_retry_note(bot: Bot) -> None:
    fake, world = bot.fake, bot.world
    _, clip = await bot.ready_for_review()
    assert bot.platform.handlers is not None
    bot.platform.handlers.form_deadline = 0  # the core "misses" the deadline every time

    click = await fake.click(clip, "Edit prompt", world.requester)
    assert (await fake.wait_callback(click))["type"] == DEFERRED_UPDATE_MESSAGE
    await fake.wait_for(lambda: click.followups, what="the retry note")
    assert (
        click.followups[0].flags & EPHEMERAL
        and "press the button again" in click.followups[0].content.lower()
    )
    assert click.rejected == []  # never answered twice


async def test_a_reply_that_mentions_the_bot_answers_its_question(bot: Bot) -> None:
    fake, world = bot.fake, bot.world
    command = await fake.slash("video", world.requester, {"prompt": "a cool video"})
    await fake.wait_callback(command)
    request = await bot.request_for(world.requester)
    assert request.status == R.CLARIFYING
    thread = fake.channels[int(request.target.thread or 0)]
    assert any(m.content.startswith("❓") for m in fake.channel_messages(thread.id))

    await fake.user_message(thread, world.requester, "our steel water bottle on a kitchen counter, upbeat")
    await fake.wait_for(lambda: briefs_in(fake, thread.id), what="the brief after the answer")
    assert "steel water bottle" in briefs_in(fake, thread.id)[0].text()


@pytest.fixture
async def sharded_world() -> AsyncIterator[World]:
    fake = await FakeDiscord(shards=2, max_concurrency=2).start()
    approvers = fake.add_role("Approvers")
    world = World(
        fake,
        approvers,
        fake.add_member("teacher"),
        fake.add_member("lead", approvers),
        fake.add_member("student"),
    )
    yield world
    await fake.close()
    assert_discord_was_used_correctly(fake)


async def test_sharded_clients_connect_every_shard_and_serve_guilds_on_each(
    sharded_world: World, tmp_path: Path, sqlite_url: str
) -> None:
    fake = sharded_world.fake
    other = fake.add_guild("second school", shard=1 - fake.shard_of(fake.guild.id))
    other_approvers = fake.add_role("Approvers", other)
    pupil = fake.add_member("pupil", guild=other)
    fake.add_member("head", other_approvers, guild=other)
    bot = await start_bot(
        sharded_world,
        tmp_path,
        sqlite_url,
        providers={"filejob": FileJobProvider(tmp_path / "jobs")},
        discord_shards=2,
        discord_guild_ids=f"{fake.guild.id},{other.id}",
    )
    try:
        assert sorted(tuple(i["shard"]) for i in fake.identifies) == [(0, 2), (1, 2)]
        for guild, user in ((fake.guild, sharded_world.requester), (other, pupil)):
            channel = fake.text_channel(guild)
            command = await fake.slash("video", user, {"prompt": ASK}, channel=channel)
            assert (await fake.wait_callback(command))["type"] == CHANNEL_MESSAGE
            await fake.wait_for(partial(fake.threads, channel.id), what=f"a thread in {guild.name}")
    finally:
        await bot.stop()
