"""The application commands: ``/video`` with typed options, and its companions.

Why ``/video`` plus ``/video-status``, ``/video-usage``, ``/video-cancel`` and
``/video-help`` rather than subcommands: in Discord a command that has subcommands
cannot be run on its own, so the everyday ask would become ``/video new prompt: …``.
Separate commands keep the common path one word long, and typing ``/video`` still
lists all five together.

The choices for ``seconds``, ``aspect`` and ``provider`` come from the configured
providers' capabilities when the bot starts, so Discord only offers what can be made.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from adapters.discord.events import video_options
from adapters.discord.handlers import InteractionHandlers
from bot.events import Subcommand
from bot.options import MAX_AUDIENCE_CHARS, MAX_VARIANTS
from bot.planner import ProviderRouter
from bot.text_input import MAX_TEXT_CHARS

log = logging.getLogger(__name__)

MAX_CHOICES = 25
ASPECT_NAMES = {"16:9": "16:9 landscape", "9:16": "9:16 vertical", "1:1": "1:1 square"}

HELP = (
    "**clipdesk** turns a sentence into a reviewed video clip, in a thread of its own.\n"
    "• `/video prompt: a 12s product demo of our steel water bottle, upbeat` — add `seconds`, "
    "`aspect`, `provider` or `variants` from the option list, or just say it in the prompt "
    '("12 seconds", "vertical").\n'
    "• The thread shows the brief and its cost; **Render** starts paid renders, **Edit prompt** "
    "changes the brief, **Cancel** stops.\n"
    "• The clip arrives in the thread. A member with the approver role presses **Approve**, "
    "**Regenerate**, **Edit prompt** or **Reject**.\n"
    "• If I ask a question in the thread, reply to my message (or mention me) with the answer.\n"
    "• `/video-status`: your open requests · `/video-usage`: your spend this month · "
    "`/video-cancel`: cancel your latest request that has not started rendering."
)


@dataclass(frozen=True)
class VideoChoices:
    """What ``/video`` offers, from the providers' capabilities."""

    seconds: tuple[int, ...]
    aspects: tuple[str, ...]
    providers: tuple[tuple[str, str], ...]  # (value, label)

    @classmethod
    def from_router(cls, router: ProviderRouter) -> VideoChoices:
        seconds: set[int] = set()
        aspects: set[str] = set()
        providers: list[tuple[str, str]] = []
        for name in router.names:
            caps = router.get(name).capabilities()
            seconds.update(caps.durations)
            aspects.update(caps.aspects)
            providers.append((name, caps.label or name))
        return cls(tuple(sorted(seconds)), tuple(sorted(aspects)), tuple(providers))


def build_tree(
    client: discord.Client, handlers: InteractionHandlers, choices: VideoChoices
) -> app_commands.CommandTree[Any]:
    """The client's command tree with every clipdesk command on it."""
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
    tree.add_command(video_command(handlers, choices))
    for word, description in (
        ("status", "Your open video requests and where they are in the queue"),
        ("usage", "Your video spend this month"),
        ("cancel", "Cancel your latest video request that has not started rendering"),
    ):
        tree.add_command(_lookup_command(handlers, word, description))
    tree.add_command(_help_command())
    return tree


def video_command(
    handlers: InteractionHandlers, choices: VideoChoices
) -> app_commands.Command[Any, ..., None]:
    async def video(
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, MAX_TEXT_CHARS],
        seconds: int | None = None,
        aspect: str | None = None,
        provider: str | None = None,
        variants: app_commands.Range[int, 1, MAX_VARIANTS] | None = None,
        audience: app_commands.Range[str, 1, MAX_AUDIENCE_CHARS] | None = None,
        captions: app_commands.Range[str, 2, 20] | None = None,
    ) -> None:
        options = video_options(
            seconds=seconds,
            aspect=aspect,
            provider=provider,
            variants=variants,
            audience=audience,
            captions=captions,
        )
        await handlers.video(interaction, prompt, options)

    callback = app_commands.describe(
        prompt="What should the video show? A sentence or two is plenty.",
        seconds="How long the clip runs",
        aspect="The clip's shape",
        provider="Which video model renders it",
        variants="How many takes to render side by side",
        audience="Explainers: who it is for, e.g. age 14",
        captions="Explainers: burn (into the picture), off, or a language to translate to, e.g. es",
    )(video)
    callback = app_commands.choices(
        seconds=_choices([(f"{s} seconds", s) for s in choices.seconds]),
        aspect=_choices([(ASPECT_NAMES.get(a, a), a) for a in choices.aspects]),
        provider=_choices([(label, value) for value, label in choices.providers]),
    )(callback)
    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name="video", description="Make a short AI video clip, reviewed in a thread", callback=callback
    )
    return app_commands.guild_only(command)


def _choices(pairs: Sequence[tuple[str, Any]]) -> list[app_commands.Choice[Any]]:
    if len(pairs) > MAX_CHOICES:
        log.warning(
            "Discord offers at most %d choices; showing the first %d of %d",
            MAX_CHOICES,
            MAX_CHOICES,
            len(pairs),
        )
    return [app_commands.Choice(name=name[:100], value=value) for name, value in pairs[:MAX_CHOICES]]


def _lookup_command(
    handlers: InteractionHandlers, word: str, description: str
) -> app_commands.Command[Any, ..., None]:
    async def lookup(interaction: discord.Interaction[Any]) -> None:
        await handlers.lookup(interaction, Subcommand(word))

    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=f"video-{word}", description=description, callback=lookup
    )
    return app_commands.guild_only(command)


def _help_command() -> app_commands.Command[Any, ..., None]:
    async def help_(interaction: discord.Interaction[Any]) -> None:
        # Discord's own syntax (typed options), not the flags the core's help describes.
        await interaction.response.send_message(HELP, ephemeral=True)

    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name="video-help", description="How to ask for a video and review it", callback=help_
    )
    return command


async def sync_commands(tree: app_commands.CommandTree[Any], guild_ids: Sequence[int]) -> None:
    """Per guild when ``guild_ids`` are given (instant, for test servers), else globally."""
    if not guild_ids:
        synced = await tree.sync()
        log.info("synced %d Discord commands globally (may take up to an hour to appear)", len(synced))
        return
    for guild_id in guild_ids:
        guild = discord.Object(id=guild_id)
        tree.copy_global_to(guild=guild)
        synced = await tree.sync(guild=guild)
        log.info("synced %d Discord commands to guild %s", len(synced), guild_id)
