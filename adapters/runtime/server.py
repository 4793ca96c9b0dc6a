"""`clipdesk serve` and `clipdesk worker`: long-running processes."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from fastapi import FastAPI

from adapters.runtime.container import App, build_app
from adapters.runtime.doctor import refuse_to_start_on_fatal
from adapters.runtime.heap import settle_heap
from adapters.runtime.scheduler import start_loops
from adapters.runtime.settings import Settings
from adapters.web.app import create_web_app
from adapters.web.server import WebServer
from bot.ports import ChatPort

log = logging.getLogger(__name__)


class Platform(Protocol):
    """A chat platform connection: its ChatPort plus how it receives events."""

    @property
    def port(self) -> ChatPort: ...

    async def start(self, app: App, web_app: FastAPI) -> None:
        """Connect (Socket Mode, gateway) or add routes to ``web_app``; events go to ``app.conversation``."""
        ...

    async def stop(self) -> None: ...


def configured_platforms(settings: Settings, *, receive: bool) -> list[Platform]:
    """The chat platforms whose tokens are set. ``receive=False`` builds send-only clients (workers)."""
    platforms: list[Platform] = []
    if settings.slack_bot_token:
        from adapters.slack.platform import slack_platform

        platforms.append(slack_platform(settings, receive=receive))
    if settings.discord_bot_token:
        from adapters.discord.platform import discord_platform

        platforms.append(discord_platform(settings, receive=receive))
    return platforms


async def _serve(settings: Settings, *, receive: bool, render: bool, http: bool) -> None:
    await refuse_to_start_on_fatal(settings)  # the checks of `clipdesk doctor`; one fatal stops start-up
    platforms = configured_platforms(settings, receive=receive)
    app = await build_app(settings, chat_ports=[p.port for p in platforms])
    web_app = create_web_app(app)
    for platform in platforms:
        await platform.start(app, web_app)
    server: WebServer | None = None
    if http:
        # One ASGI app on this loop, next to the chat adapters and the worker.
        server = WebServer(web_app, settings.http_host, settings.http_port)
        await server.start()
        log.info("listening on %s", server.url)
    loops = start_loops(app, render=render)
    if not http and settings.worker_metrics_port is not None:
        from adapters.metrics.exporter import serve_worker_metrics

        serve_worker_metrics(settings.http_host, settings.worker_metrics_port)
    if not platforms:
        log.warning(
            "no chat platform configured (set SLACK_BOT_TOKEN or DISCORD_BOT_TOKEN); "
            "try `clipdesk chat` for the console"
        )
    settle_heap()  # everything started: keep it out of the collector's full passes
    log.info("clipdesk running as %s with providers %s", app.worker.config.owner, app.providers.names)
    try:
        await asyncio.Event().wait()
    finally:
        # A graceful stop: take no new work, let in-flight work reach a saved state, give back the rest.
        grace = app.settings.shutdown_grace_seconds
        if server is not None:
            await server.stop()  # no new requests reach the platforms as they stop
        for platform in platforms:
            await platform.stop()
        await app.worker.stop(grace)
        await loops.stop()
        await app.deliverer.drain(rounds=3)
        await app.close()


async def run_server(settings: Settings, *, render: bool = True) -> None:
    await _serve(settings, receive=True, render=render, http=True)


async def run_worker(settings: Settings) -> None:
    await _serve(settings, receive=False, render=True, http=False)
