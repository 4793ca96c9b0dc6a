"""A clipdesk process on the real Bolt app and AsyncWebClient, talking to the fake Slack.

Only base URLs point at the fake; slack-bolt, slack_sdk and the web app (FastAPI on uvicorn) run unpatched.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.media.factory import postprocessor
from adapters.runtime.container import App, build_app
from adapters.slack.platform import EVENTS_PATH, SlackPlatform, slack_platform
from adapters.web.app import create_web_app
from adapters.web.server import WebServer
from bot.domain import ReplyTarget, RequestStatus, VideoRequest
from bot.ports import PromptRefiner
from storage.media import LocalMediaStore
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack, Posted, SlackRequest
from tests.fakes.slack import post_http as _post_http
from tests.support.driving import run_until
from tests.support.harness import test_settings
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider

CHANNEL = "C0VIDEO"
REQUESTER = "U0REQUESTER"
LEAD = "U0LEAD"
GROUP_LEAD = "U0GROUPLEAD"
STRANGER = "U0STRANGER"
LEADS_GROUP = "S0LEADS"


@dataclass
class Bed:
    """One clipdesk process wired to the fake Slack, in ``http`` or ``socket`` mode."""

    fake: FakeSlack
    app: App
    platform: SlackPlatform
    provider: FileJobProvider
    mode: str
    events_url: str | None
    server: WebServer | None

    # ------------------------------------------------------------------ sending as Slack

    async def deliver(self, request: SlackRequest) -> tuple[int, Any]:
        """Send a request the way this mode receives it; returns (HTTP status, ack body)."""
        if self.mode == "socket":
            return 200, await self.fake.send(request)
        assert self.events_url is not None
        status, text = await _post_http(self.events_url, request)
        try:
            return status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return status, text

    async def settle(self) -> None:
        """Wait until the work behind every ack so far is done and its messages are posted."""
        async with asyncio.timeout(20):
            await self.platform.drain()
            await self.app.deliverer.drain()

    async def video(self, text: str, *, user: str = REQUESTER, channel: str = CHANNEL) -> tuple[int, Any]:
        ack = await self.deliver(self.fake.build_command(text, user=user, channel=channel))
        await self.settle()
        return ack

    async def click(self, message: Posted, action: str, *, user: str) -> tuple[int, Any]:
        ack = await self.deliver(self.fake.build_click(message, f"clipdesk_{action}", user=user))
        await self.settle()
        return ack

    # ------------------------------------------------------------------ reading back

    def parent(self, channel: str = CHANNEL) -> Posted:
        parents = self.fake.parents(channel)
        assert len(parents) == 1, [p.text for p in parents]
        return parents[0]

    def replies(self, parent: Posted) -> list[Posted]:
        return self.fake.thread(parent.channel, parent.ts)

    async def request_in(self, parent: Posted) -> VideoRequest:
        request = await self.app.store.requests.find_request_by_thread(
            ReplyTarget("slack", TEAM, parent.channel, parent.ts)
        )
        assert request is not None, f"no request in thread {parent.ts}"
        return request

    async def run_until(self, request_id: str, states: Sequence[RequestStatus]) -> VideoRequest:
        await self.settle()
        return await run_until(self.app, request_id, states)

    async def audit_kinds(self) -> list[str]:
        return [e.kind for e in await self.app.store.audit.audit_events()]

    async def close(self) -> None:
        if self.server is not None:
            await self.server.stop()
        await self.platform.stop()
        await self.app.close()


async def start_bed(
    tmp_path: Path,
    db_url: str,
    fake: FakeSlack,
    *,
    mode: str = "http",
    provider: FileJobProvider | None = None,
    max_upload_bytes: int | None = None,
    refiner: PromptRefiner | None = None,
    real_media: bool = False,
    **settings: object,
) -> Bed:
    """Build a clipdesk process like ``clipdesk serve`` does, with the Slack platform at its edge."""
    approvers = {"slack_approvers": LEAD, "slack_approver_groups": LEADS_GROUP}
    config = test_settings(
        tmp_path,
        db_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_app_token=APP_TOKEN if mode == "socket" else None,
        slack_api_url=fake.api_url,
        **(approvers | settings),
    )
    provider = provider or FileJobProvider(tmp_path / "jobs")
    platform = slack_platform(config, receive=True)
    if max_upload_bytes is not None:
        platform.port.max_upload_bytes = max_upload_bytes
    media = LocalMediaStore(config.media_dir, config.public_url)
    app = await build_app(
        config,
        chat_ports=[platform.port],
        providers={provider.name: provider},
        # real_media: watermark, narration, captions and C2PA as in production
        postprocessor=postprocessor(config, media) if real_media else FilingPostProcessor(media),
        refiner=refiner,
        migrate=False,
    )
    web_app = create_web_app(app)
    await platform.start(app, web_app)
    server = None
    events_url = None
    if mode == "http":
        server = WebServer(web_app, "127.0.0.1", 0)
        await server.start()
        events_url = f"{server.url}{EVENTS_PATH}"
    return Bed(fake, app, platform, provider, mode, events_url, server)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    slack.usergroups[LEADS_GROUP] = [GROUP_LEAD]
    yield slack
    await slack.close()


@pytest.fixture(params=["http", "socket"])
async def any_bed(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_url: str, fake: FakeSlack
) -> AsyncIterator[Bed]:
    """The same process in HTTP mode and in Socket Mode; renders take a moment, so progress shows."""
    provider = FileJobProvider(tmp_path / "jobs", job_seconds=0.3)
    b = await start_bed(tmp_path, sqlite_url, fake, mode=request.param, provider=provider)
    yield b
    await b.close()


@pytest.fixture
async def bed(tmp_path: Path, sqlite_url: str, fake: FakeSlack) -> AsyncIterator[Bed]:
    """HTTP mode (where signatures and retries headers are visible)."""
    b = await start_bed(tmp_path, sqlite_url, fake, mode="http")
    yield b
    await b.close()
