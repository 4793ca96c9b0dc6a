"""A real discord.py client and a real clipdesk App against the fake Discord in tests/fakes/discord.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from adapters.discord.platform import DiscordPlatform, discord_platform
from adapters.media.factory import postprocessor
from adapters.runtime.container import App, build_app
from adapters.runtime.settings import Settings
from bot.domain import RequestStatus, VideoRequest
from bot.ports import VideoProvider
from storage.media import LocalMediaStore
from tests.fakes.discord import Channel, FakeDiscord, Role, StoredMessage, User
from tests.support.driving import run_until
from tests.support.harness import test_settings
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider
from tests.support.waiting import wait_for

R = RequestStatus
ASK = "an explainer of laminar vs turbulent flow"


@dataclass
class World:
    """The fake Discord and the people in its server."""

    fake: FakeDiscord
    approvers: Role
    requester: User
    lead: User
    stranger: User

    @property
    def channel(self) -> Channel:
        return self.fake.text_channel()


@dataclass
class Bot:
    """One clipdesk process with Discord: a platform (client + chat port) and its App."""

    world: World
    platform: DiscordPlatform
    app: App
    settings: Settings
    outbox: asyncio.Task[None] | None = None

    @property
    def fake(self) -> FakeDiscord:
        return self.world.fake

    async def run_until(self, request_id: str, states: Sequence[RequestStatus]) -> VideoRequest:
        return await run_until(self.app, request_id, states)

    async def request_for(self, requester: User) -> VideoRequest:
        """The newest request of ``requester``, once it is past refining and its thread shows it all."""

        async def find() -> VideoRequest | None:
            await self.app.deliverer.drain()
            found = await self.app.store.requests.open_requests(
                "discord", str(self.fake.guild.id), str(requester.id)
            )
            settled = [r for r in found if r.status not in (R.RECEIVED, R.REFINING)]
            if settled and not await self.app.store.outbox.pending():
                return settled[-1]
            return None

        found: VideoRequest = await wait_for(find, seconds=60)
        return found

    async def ask(self, requester: User | None = None, /, **options: object) -> VideoRequest:
        """``/video`` with ``options`` (``prompt`` defaults to ASK); waits for the brief."""
        requester = requester or self.world.requester
        interaction = await self.fake.slash("video", requester, {"prompt": ASK, **options})
        await self.fake.wait_callback(interaction)
        return await self.request_for(requester)

    async def ready_for_review(self, **options: object) -> tuple[VideoRequest, StoredMessage]:
        request = await self.ask(**{"seconds": 4, **options})
        done = await self.run_until(request.id, [R.IN_REVIEW])
        return done, clip_message(self.fake, int(done.target.thread or 0))

    async def stop(self) -> None:
        if self.outbox is not None:  # as serve does: stop delivering before the client closes
            self.outbox.cancel()
            await asyncio.gather(self.outbox, return_exceptions=True)
        await self.platform.stop()
        await self.app.close()


def messages_in(fake: FakeDiscord, channel_id: int) -> list[StoredMessage]:
    return fake.channel_messages(channel_id)


def clip_message(fake: FakeDiscord, thread_id: int, version: int = 1) -> StoredMessage:
    found = [
        m
        for m in messages_in(fake, thread_id)
        if m.content.startswith(f"🎬 Your clip is ready for review (v{version})")
    ]
    assert len(found) == 1, [m.content for m in messages_in(fake, thread_id)]
    return found[0]


def briefs_in(fake: FakeDiscord, thread_id: int) -> list[StoredMessage]:
    return [m for m in messages_in(fake, thread_id) if m.content.startswith("📝 Brief v")]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    fake = await FakeDiscord().start()
    approvers = fake.add_role("Approvers")
    world = World(
        fake,
        approvers,
        requester=fake.add_member("teacher"),
        lead=fake.add_member("lead", approvers),
        stranger=fake.add_member("student"),
    )
    yield world
    await fake.close()
    assert_discord_was_used_correctly(fake)


def assert_discord_was_used_correctly(fake: FakeDiscord) -> None:
    """Every test: no route the fake does not know, no interaction answered twice or too late."""
    assert fake.unhandled == []
    refused = {i.id: i.rejected for i in fake.interactions.values() if i.rejected}
    assert refused == {}
    unanswered = [i.id for i in fake.interactions.values() if i.sent_at and not i.callbacks]
    assert unanswered == []


async def start_bot(
    world: World,
    tmp_path: Path,
    db_url: str,
    *,
    providers: dict[str, VideoProvider] | None = None,
    real_media: bool = False,
    **overrides: object,
) -> Bot:
    fake = world.fake
    discord: dict[str, object] = {
        "discord_bot_token": fake.token,
        "discord_api_url": fake.api_url,
        "discord_gateway_url": fake.gateway_url,
        "discord_guild_ids": str(fake.guild.id),
        "discord_approver_roles": "Approvers",
    }
    settings = test_settings(tmp_path, db_url, **(discord | overrides))
    platform = discord_platform(settings, receive=True)
    media = LocalMediaStore(settings.media_dir, settings.public_url)
    app = await build_app(
        settings,
        chat_ports=[platform.port],
        providers=providers if providers is not None else {"filejob": FileJobProvider(tmp_path / "jobs")},
        # real_media: watermark, narration, captions and C2PA as in production
        postprocessor=postprocessor(settings, media) if real_media else FilingPostProcessor(media),
        migrate=False,
    )
    await platform.start(app, FastAPI())
    # As in `clipdesk serve`: the outbox delivers as soon as the core commits (the tick is a safety net).
    outbox = asyncio.create_task(app.deliverer.run(tick=0.2))
    return Bot(world, platform, app, settings, outbox)


@pytest.fixture
async def bot(world: World, tmp_path: Path, sqlite_url: str) -> AsyncIterator[Bot]:
    running = await start_bot(world, tmp_path, sqlite_url)
    yield running
    await running.stop()
