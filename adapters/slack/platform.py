"""How clipdesk connects to Slack: Socket Mode, HTTP mode, or send-only (worker processes).

- ``SLACK_APP_TOKEN`` set: Socket Mode (no public URL needed).
- only ``SLACK_SIGNING_SECRET`` set: HTTP mode, ``POST /slack/events`` on the web app,
  every request's signature verified on the raw bytes before parsing
  (``adapters.web.slack_events``), then by Bolt.
- ``receive=False``: only the Web API client, so a worker can post clips into threads.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from fastapi import FastAPI
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.runtime.answers import AnswersFirst
from adapters.runtime.settings import Settings, split_list
from adapters.slack.app import build_bolt_app
from adapters.slack.chat import DEFAULT_MAX_UPLOAD_BYTES, SlackChat
from adapters.slack.client import web_client
from adapters.slack.groups import ApproverGroups
from adapters.slack.sink import EventSink
from adapters.web.refusals import refusals_of
from adapters.web.slack_events import mount_slack_events

if TYPE_CHECKING:
    from adapters.runtime.container import App

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackConfigError(RuntimeError):
    """The Slack settings cannot work; the message says which variable to set."""


class SlackPlatform:
    """The Slack connection of one process (the ``Platform`` protocol of ``adapters.runtime.server``).

    Args:
        port: The chat port the core posts through.
        app_token: ``xapp-…``: receive events over Socket Mode.
        signing_secret: Receive events over HTTP, verified with this secret.
        approver_groups: User group ids whose members may approve.
        receive: ``False`` for a send-only platform (workers).
    """

    def __init__(
        self,
        port: SlackChat,
        *,
        app_token: str | None = None,
        signing_secret: str | None = None,
        approver_groups: Sequence[str] = (),
        receive: bool = True,
    ) -> None:
        if receive and not (app_token or signing_secret):
            raise SlackConfigError(
                "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) "
                "next to SLACK_BOT_TOKEN to receive /video, clicks and mentions."
            )
        self.port = port
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.approver_groups = tuple(approver_groups)
        self.receive = receive
        self.bolt: AsyncApp | None = None
        self.sink: EventSink | None = None
        # Acks go before the work behind them and before thread posts (adapters.runtime.answers).
        self.answers = AnswersFirst()
        self._socket: AsyncSocketModeHandler | None = None

    @property
    def mode(self) -> str:
        """``"socket"``, ``"http"`` or ``"send-only"``."""
        if not self.receive:
            return "send-only"
        return "socket" if self.app_token else "http"

    async def start(self, app: App, web_app: FastAPI) -> None:
        """Connect over Socket Mode, or add ``POST /slack/events`` to ``web_app`` (before it starts)."""
        if self.port.link_for is None:
            self.port.link_for = app.media.url_for
        if not self.receive:
            return
        await self._check_bot_token()
        self.sink = EventSink(
            app.conversation,
            ApproverGroups(self.port.client, self.approver_groups),
            app.store.requests,
            answers=self.answers,
        )
        self.bolt = build_bolt_app(
            client=self.port.client, signing_secret=self.signing_secret, sink=self.sink, chat=self.port
        )
        if self.app_token:
            await self._connect_socket(self.bolt, self.app_token)
        else:
            assert self.signing_secret  # checked in __init__
            self.port.answers = self.answers
            mount_slack_events(
                web_app,
                self.bolt,
                self.signing_secret,
                refusals_of(web_app),
                path=EVENTS_PATH,
                answers=self.answers,
            )
            log.info("Slack HTTP mode: events, commands and clicks at POST %s", EVENTS_PATH)

    async def drain(self) -> None:
        """Wait for the work started by the events received so far (tests, shutdown)."""
        if self.sink is not None:
            await self.sink.drain()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self.sink is not None:
            await self.sink.close()

    # ------------------------------------------------------------------ internals

    async def _check_bot_token(self) -> None:
        try:
            auth = await self.port.client.auth_test()
        except SlackApiError as exc:
            error = exc.response.get("error")
            raise SlackConfigError(f"SLACK_BOT_TOKEN was refused by Slack: {error}") from exc
        log.info("Slack: connected as %s in %s", auth.get("user"), auth.get("team"))

    async def _connect_socket(self, bolt: AsyncApp, app_token: str) -> None:
        handler = AsyncSocketModeHandler(bolt, app_token, web_client=self.port.client)
        try:
            # Ask once here so a wrong app token stops start-up with a clear message, instead of
            # the socket client retrying forever; the URL it returns is the one it connects to.
            opened = await self.port.client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            await handler.close_async()  # type: ignore[no-untyped-call]
            error = exc.response.get("error")
            raise SlackConfigError(f"SLACK_APP_TOKEN was refused by Slack: {error}") from exc
        handler.client.wss_uri = str(opened["url"])
        await handler.connect_async()  # type: ignore[no-untyped-call]
        self._socket = handler
        log.info("Slack Socket Mode connected")


def slack_platform(settings: Settings, *, receive: bool) -> SlackPlatform:
    """The Slack platform for ``settings``; ``receive=False`` builds a send-only one for workers."""
    if not settings.slack_bot_token:
        raise SlackConfigError("SLACK_BOT_TOKEN is not set")
    client = web_client(settings.slack_bot_token, settings.slack_api_url)
    max_mb = getattr(settings, "slack_max_upload_mb", None)
    max_bytes = int(float(max_mb) * 1024 * 1024) if max_mb else DEFAULT_MAX_UPLOAD_BYTES
    return SlackPlatform(
        SlackChat(client, max_upload_bytes=max_bytes),
        app_token=settings.slack_app_token if receive else None,
        signing_secret=settings.slack_signing_secret if receive else None,
        approver_groups=split_list(settings.slack_approver_groups),
        receive=receive,
    )
