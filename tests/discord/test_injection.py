"""Mentions, broadcasts and disguised links that users or models write notify nobody and read as written."""

from __future__ import annotations

from typing import Any

from adapters.discord.escaping import ZWSP, inert_markdown
from bot.domain import ReplyTarget, RequestStatus
from bot.messages import Message
from tests.discord.conftest import Bot, messages_in
from tests.fakes.discord_payloads import StoredMessage

R = RequestStatus
LINK = "[the clip here](https://evil.example/login)"


def markdown_of(message: StoredMessage) -> str:
    """Everything Discord reads as markdown (embed footers are plain text there: no mentions, no links)."""
    parts = [message.content]
    for embed in message.embeds:
        parts.append(embed.get("description") or "")
        parts.extend(f"{f['name']}: {f['value']}" for f in embed.get("fields") or [])
    return "\n".join(parts)


def sent_bodies(bot: Bot) -> list[dict[str, Any]]:
    """What the bot asked Discord to post or edit (JSON bodies, also inside multipart uploads)."""
    calls = [
        *bot.fake.calls_to("POST", "/channels/{id}/messages"),
        *bot.fake.calls_to("PATCH", "/channels/{id}/messages/{id}"),
    ]
    return [dict(call.body or {}) for call in calls]


async def test_an_ask_with_everyone_roles_people_and_a_masked_link_notifies_nobody(bot: Bot) -> None:
    world = bot.world
    ask = f"a 4s clip of a red kite @everyone @here <@&{world.approvers.id}> {world.stranger.mention} {LINK}"
    request = await bot.ask(prompt=ask, seconds=4)
    await bot.run_until(request.id, [R.IN_REVIEW])
    thread = int(request.target.thread or 0)
    shown = [markdown_of(m) for m in messages_in(bot.fake, world.channel.id) + messages_in(bot.fake, thread)]
    assert len(shown) >= 4  # the ask, the brief (the model echoes the ask), status, clip
    everything = "\n".join(shown)
    assert "@everyone" not in everything and "@here" not in everything
    assert f"@{ZWSP}everyone" in everything and f"<@{ZWSP}&{world.approvers.id}>" in everything
    assert (
        "[the clip here](" not in everything
        and "\\[the clip here\\](https://evil.example/login)" in everything
    )
    bodies = sent_bodies(bot)
    assert bodies and all(body.get("allowed_mentions", {}).get("parse") == [] for body in bodies), bodies
    assert not any(body["allowed_mentions"].get("roles") for body in bodies)
    # Only the requester is ever mentioned on purpose (the parent message names them); never the
    # stranger the ask dragged in.
    pinged = {str(user) for body in bodies for user in body["allowed_mentions"].get("users") or []}
    assert pinged <= {str(world.requester.id)}


async def test_only_the_users_a_message_declares_are_mentioned_and_notified(bot: Bot) -> None:
    world = bot.world
    lead, stranger = str(world.lead.id), str(world.stranger.id)
    target = ReplyTarget("discord", str(bot.fake.guild.id), str(world.channel.id), None)
    message = Message(
        text=f"⛔ rejected by <@{lead}>",
        body=f"Reason: ask <@{stranger}> or <@!{stranger}>, see {LINK}",
        mentions=(lead,),
    )
    await bot.platform.port.post(target, message)
    [posted] = messages_in(bot.fake, world.channel.id)
    assert posted.content == f"⛔ rejected by <@{lead}>"
    description = posted.embeds[0]["description"]
    assert f"<@{ZWSP}{stranger}>" in description and f"<@{ZWSP}!{stranger}>" in description
    [body] = sent_bodies(bot)
    assert body["allowed_mentions"] == {"parse": [], "users": [int(lead)]}


def test_inert_markdown_keeps_the_cores_own_emphasis() -> None:
    assert inert_markdown("*Your ask:* a `code` _kite_", None) == "*Your ask:* a `code` _kite_"
    assert inert_markdown("<@1> <@2>", None) == "<@1> <@2>"  # undeclared: a chip that notifies nobody
    assert inert_markdown("<@1> <@2>", ("1",)) == f"<@1> <@{ZWSP}2>"
    assert inert_markdown("-# tiny\n  ## big", None) == "\\-# tiny\n  \\## big"
