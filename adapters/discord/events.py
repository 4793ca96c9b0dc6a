"""Discord interactions and messages → the core's typed events; converted here, once.

A member's roles become ``Actor.groups`` twice over, by id and by name, so
``CLIPDESK_DISCORD_APPROVER_ROLES`` may list either.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from adapters.discord.components import FORM_TEMPLATE, ClipRef, form_values, parse_custom_id
from adapters.discord.refs import message_ref
from bot.domain import ReplyTarget, RequestOptions
from bot.events import Actor, ButtonPressed, FormSubmitted, Subcommand, ThreadReply, VideoCommand

PLATFORM = "discord"


def actor(user: discord.User | discord.Member) -> Actor:
    """The user, named by mention (Discord shows it as their current display name)."""
    groups: set[str] = set()
    if isinstance(user, discord.Member):
        for role in user.roles:
            groups.add(str(role.id))
            groups.add(role.name)
    return Actor(str(user.id), f"<@{user.id}>", frozenset(groups))


def target(interaction: discord.Interaction[Any]) -> ReplyTarget:
    """Where the interaction happened; in a thread, ``channel`` is the thread's parent."""
    workspace = str(interaction.guild_id) if interaction.guild_id else "dm"
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        return ReplyTarget(PLATFORM, workspace, str(channel.parent_id), str(channel.id))
    return ReplyTarget(PLATFORM, workspace, str(interaction.channel_id), None)


def video_options(
    *,
    seconds: int | None = None,
    aspect: str | None = None,
    provider: str | None = None,
    variants: int | None = None,
    audience: str | None = None,
    captions: str | None = None,
) -> RequestOptions:
    """``/video``'s typed options as the core's options: typed in, typed through, never text."""
    return RequestOptions(
        seconds=seconds,
        aspect=aspect or None,
        provider=provider or None,
        variants=variants or 1,
        audience=audience or None,
        captions=captions or None,
    )


def command(
    interaction: discord.Interaction[Any],
    text: str,
    trigger: object = None,
    *,
    options: RequestOptions | None = None,
    subcommand: Subcommand | None = None,
) -> VideoCommand:
    return VideoCommand(
        target(interaction),
        actor(interaction.user),
        text,
        str(interaction.id),
        trigger,
        options=options,
        subcommand=subcommand,
    )


def click(interaction: discord.Interaction[Any], ref: ClipRef, trigger: object = None) -> ButtonPressed:
    clicked = interaction.message
    ref_of_message = None
    if clicked is not None:
        channel_id = getattr(clicked.channel, "id", None) or interaction.channel_id
        ref_of_message = message_ref(channel_id, clicked.id) if channel_id else None
    return ButtonPressed(
        target(interaction),
        actor(interaction.user),
        ref.action,
        ref.request_id,
        ref.render_id,
        ref_of_message,
        trigger,
    )


def submission(interaction: discord.Interaction[Any]) -> FormSubmitted | None:
    """A modal submitted from one of our forms, or ``None`` for anything else."""
    data: dict[str, Any] = dict(interaction.data or {})
    ref = parse_custom_id(str(data.get("custom_id", "")), FORM_TEMPLATE)
    if ref is None:
        return None
    values = form_values(list(data.get("components") or []))
    return FormSubmitted(
        target(interaction), actor(interaction.user), ref.action, ref.request_id, values, ref.render_id
    )


def thread_reply(message: discord.Message, me: discord.ClientUser | None) -> ThreadReply | None:
    """A member's message in a thread that names the bot (a mention or a reply to it).

    Without the privileged message-content intent Discord only fills in the text of
    messages that mention the bot, which is exactly what a clarification answer is.
    """
    channel = message.channel
    if me is None or message.author.bot or not isinstance(channel, discord.Thread):
        return None
    if message.guild is None or not any(user.id == me.id for user in message.mentions):
        return None
    text = re.sub(rf"<@!?{me.id}>", "", message.content).strip()
    if not text:
        return None
    where = ReplyTarget(PLATFORM, str(message.guild.id), str(channel.parent_id), str(channel.id))
    return ThreadReply(where, actor(message.author), text, str(message.id))
