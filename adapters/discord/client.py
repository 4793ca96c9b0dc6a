"""The discord.py client: which intents, which listeners, one shard or many.

No privileged intent is asked for. ``guilds`` brings the servers with their roles
and channels (roles become ``Actor.groups``); ``guild_messages`` brings thread
replies, whose text Discord fills in only when they mention the bot — all that a
clarification answer needs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord

from adapters.discord.components import FORM_TEMPLATE, ClipButton, ClipPicker, ClipRef
from adapters.discord.handlers import InteractionHandlers

log = logging.getLogger(__name__)

IDENTIFY_WINDOW = 5.0  # Discord: one IDENTIFY per rate-limit bucket every 5 seconds


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    return wanted


class _Clipdesk:
    """What both client classes add to discord.py: persistent buttons, modals, thread replies."""

    handlers: InteractionHandlers | None
    _connected: asyncio.Event
    _shards_seen: set[int | None]

    def _init_clipdesk(self) -> None:
        self.handlers = None
        self._connected = asyncio.Event()
        self._shards_seen = set()

    async def clip_clicked(self, interaction: discord.Interaction[Any], ref: ClipRef) -> None:
        if self.handlers is None:
            await interaction.response.send_message(
                "clipdesk is starting up; try again in a moment.", ephemeral=True
            )
            return
        await self.handlers.click(interaction, ref)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        # Modal submissions are read from their custom id, not from a modal kept in memory,
        # so a form opened before a restart still submits (buttons work the same way).
        if interaction.type is not discord.InteractionType.modal_submit or self.handlers is None:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if FORM_TEMPLATE.fullmatch(custom_id):
            await self.handlers.submit(interaction)

    async def on_message(self, message: discord.Message) -> None:
        if self.handlers is not None:
            await self.handlers.message(message, self._me())

    async def on_connect(self) -> None:
        self._shards_seen.add(None)
        if len(self._shards_seen) >= self._expected_shards():
            self._connected.set()

    async def on_shard_connect(self, shard_id: int) -> None:
        self._shards_seen.add(shard_id)
        if len(self._shards_seen - {None}) >= self._expected_shards():
            self._connected.set()

    async def wait_connected(self) -> None:
        await self._connected.wait()

    def _expected_shards(self) -> int:
        return 1

    def _me(self) -> discord.ClientUser | None:
        return None


class ClipdeskClient(_Clipdesk, discord.Client):
    """One gateway connection: right for a bot in up to a couple of thousand servers."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._init_clipdesk()

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ClipButton, ClipPicker)

    def _me(self) -> discord.ClientUser | None:
        return self.user


class ClipdeskShardedClient(_Clipdesk, discord.AutoShardedClient):
    """Many shards in one process (``CLIPDESK_DISCORD_SHARDS``); 0 lets Discord pick the count."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._init_clipdesk()
        self._max_concurrency = 1
        self._identified: dict[int, float] = {}
        self._identify_lock = asyncio.Lock()

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ClipButton, ClipPicker)
        _, _, limits = await self.http.get_bot_gateway()
        self._max_concurrency = max(1, int(limits.get("max_concurrency", 1)))

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Discord's identify limit is per bucket (``shard_id % max_concurrency``), not global.

        discord.py's default sleeps 5 s before every shard but the first; large bots get a
        ``max_concurrency`` of 16 or more and may start that many shards at once.
        """
        bucket = (shard_id or 0) % self._max_concurrency
        loop = asyncio.get_running_loop()
        async with self._identify_lock:
            last = self._identified.get(bucket)
            if last is not None:
                wait = last + IDENTIFY_WINDOW - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            self._identified[bucket] = loop.time()

    def _expected_shards(self) -> int:
        return self.shard_count or 1

    async def on_connect(self) -> None:
        return None  # counted per shard in on_shard_connect

    def _me(self) -> discord.ClientUser | None:
        return self.user


def make_client(*, shards: int | None, receive: bool) -> discord.Client:
    """A client for ``clipdesk serve`` (``receive``) or a send-only one for ``clipdesk worker``."""
    options: dict[str, Any] = {
        "intents": intents(),
        # Mentions in messages name people without pinging them; a notice opts in per message.
        "allowed_mentions": discord.AllowedMentions.none(),
        "max_messages": None,  # refs are stored by the core; no message cache needed
        "member_cache_flags": discord.MemberCacheFlags.none(),
        "chunk_guilds_at_startup": False,
    }
    # clipdesk never joins voice: keep discord.py's "voice will NOT be supported" out of the logs.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    if receive and shards is not None:
        return ClipdeskShardedClient(shard_count=shards or None, **options)
    return ClipdeskClient(**options)
