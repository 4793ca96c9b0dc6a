"""``discord_platform``: what ``clipdesk serve`` and ``clipdesk worker`` start for Discord.

``serve`` logs in, registers the persistent buttons, syncs the commands and connects
to the gateway. ``worker`` (``receive=False``) only logs in: the REST API with the
bot token is all it needs to post progress and clips into threads.

``CLIPDESK_DISCORD_API_URL`` and ``CLIPDESK_DISCORD_GATEWAY_URL`` point discord.py at
a proxy or a fake. discord.py keeps both as class attributes, so they apply to the
whole process; :meth:`DiscordPlatform.stop` puts the previous values back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord
import discord.gateway
import discord.http
import yarl
from fastapi import FastAPI

from adapters.discord.chat import DiscordChat
from adapters.discord.client import ClipdeskClient, ClipdeskShardedClient, make_client
from adapters.discord.commands import VideoChoices, build_tree, sync_commands
from adapters.discord.handlers import InteractionHandlers
from adapters.runtime.settings import Settings, split_list

if TYPE_CHECKING:
    from adapters.runtime.container import App

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 60.0
DRAIN_SECONDS = 10.0


def apply_base_urls(api_url: str | None, gateway_url: str | None) -> Callable[[], None]:
    """Point discord.py's REST base and gateway at other hosts; return how to undo it."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    if api_url:
        base = api_url.rstrip("/")
        if not re.search(r"/v\d+$", base):
            base += f"/v{discord.http.INTERNAL_API_VERSION}"
        discord.http.Route.BASE = base
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    def restore() -> None:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    return restore


def guild_ids(settings: Settings) -> list[int]:
    return [int(value) for value in split_list(settings.discord_guild_ids)]


class DiscordPlatform:
    """The Discord connection of one clipdesk process (``adapters.runtime.server.Platform``)."""

    def __init__(
        self, settings: Settings, client: discord.Client, chat: DiscordChat, *, receive: bool
    ) -> None:
        self.settings = settings
        self.client = client
        self.port = chat
        self.chat = chat
        self.receive = receive
        self.handlers: InteractionHandlers | None = None
        self._gateway: asyncio.Task[None] | None = None
        self._restore: Callable[[], None] | None = None

    async def start(self, app: App, web_app: FastAPI) -> None:
        """Log in; when receiving, also sync the commands and connect the gateway."""
        token = self.settings.discord_bot_token
        if not token:
            raise RuntimeError("DISCORD_BOT_TOKEN is not set")
        self._restore = apply_base_urls(self.settings.discord_api_url, self.settings.discord_gateway_url)
        self.chat.bind_media(app.media)
        tree = None
        if self.receive:
            assert isinstance(self.client, ClipdeskClient | ClipdeskShardedClient)
            self.handlers = InteractionHandlers(app.conversation, self.chat)
            self.client.handlers = self.handlers
            tree = build_tree(self.client, self.handlers, VideoChoices.from_router(app.providers))
        await self.client.login(token)  # runs setup_hook: the persistent buttons are registered
        if tree is None:
            log.info("Discord: logged in as %s (send-only)", self.client.user)
            return
        await sync_commands(tree, guild_ids(self.settings))
        self._gateway = asyncio.create_task(self.client.connect(reconnect=True), name="discord-gateway")
        self._gateway.add_done_callback(_report_gateway_end)
        await self._wait_connected()
        log.info("Discord: connected as %s", self.client.user)

    async def _wait_connected(self) -> None:
        client = self.client
        assert isinstance(client, ClipdeskClient | ClipdeskShardedClient)
        assert self._gateway is not None
        connected = asyncio.ensure_future(client.wait_connected())
        done, _ = await asyncio.wait(
            {connected, self._gateway}, timeout=CONNECT_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if connected in done:
            return
        connected.cancel()
        if self._gateway in done:
            self._gateway.result()  # raises why the gateway closed (bad token, intents, …)
            raise RuntimeError("the Discord gateway closed during start-up")
        raise TimeoutError(f"no Discord gateway connection within {CONNECT_TIMEOUT:.0f} s")

    async def stop(self) -> None:
        if self.handlers is not None:
            await self.handlers.drain(DRAIN_SECONDS)
        await self.client.close()
        if self._gateway is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._gateway
        if self._restore is not None:
            self._restore()
            self._restore = None


def discord_platform(settings: Settings, receive: bool = True) -> DiscordPlatform:
    """The Discord platform for ``settings``; ``receive=False`` for a send-only worker."""
    client = make_client(shards=settings.discord_shards if receive else None, receive=receive)
    return DiscordPlatform(settings, client, DiscordChat(client), receive=receive)


def _report_gateway_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the Discord gateway connection ended", exc_info=task.exception())
