"""Nothing acknowledged is lost: `clipdesk serve` killed right after its acks still delivers every clip.

Slack does not resend a command it saw acknowledged, and Discord does not resend an
interaction that was answered, so an ask must be a row before the platform hears "on it".
These tests run the real `serve` process against the fake platforms, stop it the hard way
(SIGKILL) or the polite way (SIGTERM) right after the acks, start it again, and check that
every command ends with exactly one thread and exactly one clip.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.domain import RequestStatus
from storage.database import make_engine
from storage.repository import SqlStore
from tests.fakes.discord import FakeDiscord
from tests.fakes.loopback import unused_port
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.support.cli_run import clean_environment
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow

COMMANDS = 24
CHANNEL = "C0VIDEOS"
R = RequestStatus


@dataclass
class Serve:
    """One `clipdesk serve` process; start it again with the same data folder to "restart"."""

    tmp: Path
    env: dict[str, str]
    port: int
    proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "adapters.runtime.cli",
            "serve",
            cwd=self.tmp,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

        async def healthy() -> bool:
            try:
                async with (
                    aiohttp.ClientSession() as http,
                    http.get(f"http://127.0.0.1:{self.port}/healthz") as r,
                ):
                    return r.status == 200
            except aiohttp.ClientError:
                return False

        await wait_for(healthy, seconds=60)

    async def stop(self, sig: signal.Signals) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        _, err = await asyncio.wait_for(self.proc.communicate(), 90)
        self.stderr = err.decode(errors="replace")
        return self.proc.returncode if self.proc.returncode is not None else -1

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


def serve_env(tmp: Path, port: int, **extra: str) -> dict[str, str]:
    env = clean_environment(tmp)
    env.update(
        CLIPDESK_HTTP_PORT=str(port),
        CLIPDESK_PROVIDER="animatic",
        # Short leases, so the restarted process takes over what the killed one held in seconds.
        CLIPDESK_LEASE_SECONDS="3",
        CLIPDESK_INTAKE_LEASE_SECONDS="3",
        CLIPDESK_DELIVERY_LEASE_SECONDS="3",
        CLIPDESK_INTAKE_GRACE_SECONDS="1",
        CLIPDESK_TICK_SECONDS="0.5",
        CLIPDESK_WATERMARK="false",
        CLIPDESK_WORKER_CONCURRENCY="4",
        **extra,
    )
    return env


async def all_in_review(store: SqlStore, count: int) -> bool:
    done = await store.requests.requests_in_status(R.IN_REVIEW)
    return len(done) >= count


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


async def _send_commands(url: str, fake: FakeSlack) -> list[str]:
    async with aiohttp.ClientSession() as http:

        async def one(i: int) -> str:
            request = fake.build_command(f"a 4s clip of kite number {i}", user=f"U{i:04d}", channel=CHANNEL)
            async with http.post(url, data=request.body.encode(), headers=request.headers) as response:
                assert response.status == 200
                body = await response.text()
                return str(json.loads(body).get("text", "")) if body else ""

        return list(await asyncio.gather(*(one(i) for i in range(COMMANDS))))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
async def test_slack_commands_acknowledged_before_a_stop_all_end_with_one_thread_and_one_clip(
    tmp_path: Path, slack: FakeSlack, sig: signal.Signals
) -> None:
    port = unused_port()
    env = serve_env(
        tmp_path,
        port,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        CLIPDESK_SLACK_API_URL=slack.api_url,
        CLIPDESK_SLACK_APPROVERS="ULEAD",
    )
    serve = Serve(tmp_path, env, port)
    store = SqlStore(make_engine(f"sqlite:///{tmp_path / 'data' / 'clipdesk.db'}"))
    try:
        await serve.start()
        acks = await _send_commands(f"http://127.0.0.1:{port}/slack/events", slack)
        assert acks == ["🎬 on it…"] * COMMANDS
        code = await serve.stop(sig)
        if sig == signal.SIGTERM:
            assert code == 0, serve.stderr  # a graceful stop exits cleanly

        await serve.start()  # the restart finds what was acknowledged and finishes it
        await wait_for(lambda: all_in_review(store, COMMANDS), seconds=300)
        await wait_for(lambda: _all_said(store), seconds=60)

        parents = slack.parents(CHANNEL)
        assert len(parents) == COMMANDS, [p.text for p in parents]  # one thread per command
        for parent in parents:
            clips = [
                m for m in slack.thread(CHANNEL, parent.ts) if m.text.startswith("🎬 Your clip is ready")
            ]
            assert len(clips) == 1, parent.text  # one clip per thread
    finally:
        await serve.close()
        await store.close()


async def _all_said(store: SqlStore) -> bool:
    return await store.outbox.pending() == 0


async def test_discord_commands_acknowledged_before_a_kill_all_end_with_one_thread_and_one_clip(
    tmp_path: Path,
) -> None:
    fake = await FakeDiscord().start()
    port = unused_port()
    env = serve_env(
        tmp_path,
        port,
        DISCORD_BOT_TOKEN=fake.token,
        CLIPDESK_DISCORD_API_URL=fake.api_url,
        CLIPDESK_DISCORD_GATEWAY_URL=fake.gateway_url,
        CLIPDESK_DISCORD_GUILD_IDS=str(fake.guild.id),
    )
    serve = Serve(tmp_path, env, port)
    store = SqlStore(make_engine(f"sqlite:///{tmp_path / 'data' / 'clipdesk.db'}"))
    channel = fake.text_channel()
    try:
        await serve.start()
        await wait_for(lambda: _ready(fake), seconds=60)
        users = [fake.add_member(f"pupil{i}") for i in range(COMMANDS)]
        commands = await asyncio.gather(
            *(
                fake.slash("video", user, {"prompt": f"a 4s clip of kite number {i}", "seconds": 4})
                for i, user in enumerate(users)
            )
        )
        for command in commands:
            await fake.wait_callback(command, within=30)
        await serve.stop(signal.SIGKILL)

        await serve.start()
        await wait_for(lambda: all_in_review(store, COMMANDS), seconds=300)
        await wait_for(lambda: _all_said(store), seconds=60)

        threads = fake.threads(channel.id)
        assert len(threads) == COMMANDS  # one thread per command, none opened twice
        for thread in threads:
            clips = [
                m for m in fake.channel_messages(thread.id) if m.content.startswith("🎬 Your clip is ready")
            ]
            assert len(clips) == 1
    finally:
        await serve.close()
        await store.close()
        await fake.close()


async def _ready(fake: FakeDiscord) -> bool:
    return bool(fake.identifies) and bool(fake.command("video", fake.guild.id))
