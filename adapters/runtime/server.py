"""`clipdesk serve` and `clipdesk worker`: long-running processes."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aiohttp import web

from adapters.runtime.container import App, build_app
from adapters.runtime.doctor import refuse_to_start_on_fatal
from adapters.runtime.scheduler import start_scheduler
from adapters.runtime.settings import Settings
from bot.ports import ChatPort

log = logging.getLogger(__name__)


class Platform(Protocol):
    """A chat platform connection: its ChatPort plus how it receives events."""

    @property
    def port(self) -> ChatPort: ...

    async def start(self, app: App, web_app: web.Application) -> None:
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


def base_web_app(app: App) -> web.Application:
    web_app = web.Application(client_max_size=8 * 1024 * 1024)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, "worker": app.worker.config.owner, "busy": app.worker.busy})

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_static("/media/", app.media.root, show_index=False)
    _add_webhooks(app, web_app)
    return web_app


def _add_webhooks(app: App, web_app: web.Application) -> None:
    secret = app.settings.openai_webhook_secret
    if not secret:
        return
    from adapters.providers.webhook_bridge import add_openai_webhook

    add_openai_webhook(app, web_app, secret)


async def _serve(settings: Settings, *, receive: bool, render: bool, http: bool) -> None:
    await refuse_to_start_on_fatal(settings)  # the checks of `clipdesk doctor`; one fatal stops start-up
    platforms = configured_platforms(settings, receive=receive)
    app = await build_app(settings, chat_ports=[p.port for p in platforms])
    web_app = base_web_app(app)
    for platform in platforms:
        await platform.start(app, web_app)
    runner: web.AppRunner | None = None
    if http:
        runner = web.AppRunner(web_app)
        await runner.setup()
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        log.info("listening on http://%s:%s", settings.http_host, settings.http_port)
    scheduler = start_scheduler(app, render=render)
    if not platforms:
        log.warning(
            "no chat platform configured (set SLACK_BOT_TOKEN or DISCORD_BOT_TOKEN); "
            "try `clipdesk chat` for the console"
        )
    log.info("clipdesk running as %s with providers %s", app.worker.config.owner, app.providers.names)
    try:
        await asyncio.Event().wait()
    finally:
        scheduler.shutdown(wait=False)
        for platform in platforms:
            await platform.stop()
        if runner is not None:
            await runner.cleanup()
        await app.close()


async def run_server(settings: Settings, *, render: bool = True) -> None:
    await _serve(settings, receive=True, render=render, http=True)


async def run_worker(settings: Settings) -> None:
    await _serve(settings, receive=False, render=True, http=False)
