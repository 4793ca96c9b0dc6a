"""(d) Discord: INTERACTION_CREATE → the first answer at the REST API, 200 interactions at once.

The unmodified discord.py client runs in a process of its own, as it does in production,
against the fake Discord (tests/fakes/discord.py) in this process, on loopback. The client
is wired to a real App (SQLite, offline refiner, a paid FileJobProvider so every brief
waits for its Render button) with the outbox deliverer running as in ``serve``. Two
rounds, each 200 interactions sent back to back on the gateway:

1. ``/video`` — answered with the ephemeral "🎬 on it" once the ask is a row, while the
   core opens 200 threads;
2. **Render** clicks on those 200 briefs — answered with a deferred update while the core
   queues 200 renders.

The clock starts when the fake writes the INTERACTION_CREATE frame and stops when the
callback request reaches the fake's REST API; Discord's own deadline is 3 s. Each line also
gives the client process's CPU time over the burst.

The same run then measures the **floor**: a bare discord.py client, with the same ``/video``
command and button template, that answers every interaction at once and does nothing else,
sent the same two bursts by the same fake. What clipdesk adds is the difference.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
from aiohttp import web

from adapters.discord.client import intents
from adapters.discord.commands import VideoChoices, video_command
from adapters.discord.components import ClipButton, ClipRef
from adapters.discord.handlers import ON_IT
from adapters.discord.platform import apply_base_urls, discord_platform
from adapters.runtime.container import build_app
from adapters.runtime.heap import settle_heap
from bench.common import load_average, ms, percentile
from bot.domain import RequestOptions
from bot.planner import ProviderRouter
from storage.database import upgrade
from storage.media import LocalMediaStore
from tests.fakes.discord import FakeDiscord, FakeInteraction, StoredMessage
from tests.support.harness import test_settings
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider

INTERACTIONS = 200
ONE_AT_A_TIME = 20
ROUND_TIMEOUT = 120.0  # seconds; the bench gives up rather than hang
QUIET = 1.0  # seconds without a REST call: the client has finished the round's work
READY = "ready"


@dataclass
class Burst:
    latencies: list[float]  # seconds from each INTERACTION_CREATE frame to its callback at the fake
    refused: int
    cpu: float  # the client process's CPU seconds from the first frame to the last callback


class Client:
    """A client process (clipdesk or the bare floor) connected to the fake's gateway."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc = proc
        self.log = log

    @classmethod
    async def start(cls, kind: str, fake: FakeDiscord, folder: Path) -> Client:
        log = folder / f"{kind}.log"
        with log.open("wb") as stderr:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.discord_defer",
                kind,
                str(folder),
                fake.api_url,
                fake.gateway_url,
                fake.token,
                str(fake.guild.id),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        client = cls(proc, log)
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), ROUND_TIMEOUT)
        except TimeoutError:
            line = b""
        if line.decode().strip() != READY:
            await client.stop()
            raise RuntimeError(f"the {kind} client did not start:\n{log.read_text()[-3000:]}")
        return client

    def cpu(self) -> float:
        """CPU seconds (user + system) the process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()  # the client stops (draining its work) when its stdin closes
        try:
            await asyncio.wait_for(self.proc.wait(), 60)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def _burst(fake: FakeDiscord, client: Client, interactions: list[FakeInteraction]) -> Burst:
    """Send every INTERACTION_CREATE at once; how long each took to be answered."""
    cpu = client.cpu()
    await asyncio.gather(*(fake.send_interaction(i) for i in interactions))
    await fake.wait_for(
        lambda: all(i.callbacks or i.rejected for i in interactions), ROUND_TIMEOUT, "every callback"
    )
    cpu = client.cpu() - cpu
    answered = [i.callback_at - i.sent_at for i in interactions if i.callback_at is not None]
    return Burst(answered, sum(1 for i in interactions if i.rejected), cpu)


def _line(label: str, burst: Burst) -> str:
    latencies = burst.latencies
    return (
        f"    {label:<28} p50 {ms(percentile(latencies, 50))}, p99 {ms(percentile(latencies, 99))}, "
        f"max {ms(max(latencies))}; client CPU {ms(burst.cpu)}; answered {len(latencies)}/"
        f"{len(latencies) + burst.refused}, late or refused {burst.refused}"
    )


async def _quiet(fake: FakeDiscord) -> None:
    """Wait until the client has made no REST call for ``QUIET`` seconds (its round is done)."""
    deadline = time.monotonic() + ROUND_TIMEOUT
    seen = -1
    while len(fake.calls) != seen and time.monotonic() < deadline:
        seen = len(fake.calls)
        await asyncio.sleep(QUIET)


async def run() -> list[str]:
    lines = ["(d) Discord INTERACTION_CREATE → first answer (discord.py in its own process, fake Discord)"]
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        fake = await FakeDiscord().start()
        members = [fake.add_member(f"member{i}") for i in range(INTERACTIONS)]
        try:
            client = await Client.start("clipdesk", fake, tmp)
            try:
                alone: list[float] = []
                for n, member in enumerate(members[:ONE_AT_A_TIME]):
                    single = fake.slash_interaction("video", member, {"prompt": f"a 4s demo of cup {n}"})
                    alone += (await _burst(fake, client, [single])).latencies
                    await _quiet(fake)
                lines.append(
                    f"    {'/video, one at a time':<28} p50 {ms(percentile(alone, 50))}, "
                    f"p99 {ms(percentile(alone, 99))} ({ONE_AT_A_TIME} in a row, for comparison)"
                )
                burst = await _burst(fake, client, _commands(fake, members, "bottle"))
                lines.append(_line(f"/video, {INTERACTIONS} at once", burst))
                await fake.wait_for(
                    lambda: len(_briefs(fake, "bottle number")) == INTERACTIONS,
                    ROUND_TIMEOUT,
                    "every thread's brief",
                )
                briefs = _briefs(fake, "bottle number")
                await _quiet(fake)
                clicks = _clicks(fake, members, briefs)
                # The floor's clicks on the same briefs, made while their Render buttons are enabled.
                floor_clicks = _clicks(fake, members, briefs)
                lines.append(
                    _line(f"Render click, {len(clicks)} at once", await _burst(fake, client, clicks))
                )
                await _quiet(fake)
            finally:
                await client.stop()

            bare = await Client.start("bare", fake, tmp)
            try:
                burst = await _burst(fake, bare, _commands(fake, members, "kettle"))
                lines.append(_line(f"floor: /video, {INTERACTIONS} at once", burst))
                await _quiet(fake)
                burst = await _burst(fake, bare, floor_clicks)
                lines.append(_line(f"floor: click, {len(floor_clicks)} at once", burst))
            finally:
                await bare.stop()
        finally:
            await fake.close()
    lines.append(f"    load average at the end: {load_average()} (a shared machine makes figures noisy)")
    return lines


def _commands(fake: FakeDiscord, members: list[Any], thing: str) -> list[FakeInteraction]:
    return [
        fake.slash_interaction("video", member, {"prompt": f"a 4s demo of {thing} number {n}", "seconds": 4})
        for n, member in enumerate(members)
    ]


def _clicks(fake: FakeDiscord, members: list[Any], briefs: list[StoredMessage]) -> list[FakeInteraction]:
    return [
        fake.click_interaction(brief, "Render", member)
        for member, brief in zip(members, briefs, strict=False)
    ]


def _briefs(fake: FakeDiscord, words: str) -> list[StoredMessage]:
    """First briefs still waiting for their Render click, of the asks that mention ``words``."""
    return [
        m
        for m in fake.messages.values()
        if m.via == "bot" and m.content.startswith("📝 Brief v1") and m.buttons() and words in m.text()
    ]


# ---------------------------------------------------------------------- the client processes


async def _until_stdin_closes() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()


async def _serve_clipdesk(tmp: Path, api_url: str, gateway_url: str, token: str, guild: str) -> None:
    """``clipdesk serve``'s Discord side: the platform, the App and the outbox deliverer."""
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    settings = test_settings(
        tmp,
        url,
        discord_bot_token=token,
        discord_api_url=api_url,
        discord_gateway_url=gateway_url,
        discord_guild_ids=guild,
    )
    platform = discord_platform(settings, receive=True)
    app = await build_app(
        settings,
        chat_ports=[platform.port],
        providers=_providers(tmp),
        postprocessor=FilingPostProcessor(LocalMediaStore(settings.media_dir)),
        migrate=False,
    )
    await platform.start(app, web.Application())  # type: ignore[arg-type]  # no routes are added
    delivering = asyncio.create_task(app.deliverer.run(tick=1.0), name="bench-deliverer")
    settle_heap()  # as `clipdesk serve` does once it has started (a process of its own: never undone)
    try:
        print(READY, flush=True)
        await _until_stdin_closes()
    finally:
        delivering.cancel()
        await asyncio.gather(delivering, return_exceptions=True)
        await platform.stop()
        await app.close()


def _providers(tmp: Path) -> dict[str, Any]:
    return {"filejob": FileJobProvider(tmp / "jobs", price=0.10)}


class _BareClient(discord.Client):
    """discord.py with clipdesk's ``/video`` signature and button template, answering at once."""

    def __init__(self, choices: VideoChoices) -> None:
        super().__init__(intents=intents())
        self.tree: discord.app_commands.CommandTree[Any] = discord.app_commands.CommandTree(self)
        self.tree.add_command(video_command(self, choices))  # type: ignore[arg-type]  # duck-typed

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ClipButton)

    async def video(
        self, interaction: discord.Interaction[Any], prompt: str, options: RequestOptions
    ) -> None:
        await interaction.response.send_message(ON_IT, ephemeral=True)

    async def clip_clicked(self, interaction: discord.Interaction[Any], ref: ClipRef) -> None:
        await interaction.response.defer()


async def _serve_bare(tmp: Path, api_url: str, gateway_url: str, token: str) -> None:
    restore = apply_base_urls(api_url, gateway_url)
    router = ProviderRouter(_providers(tmp), [])
    client = _BareClient(VideoChoices.from_router(router))
    await client.login(token)
    gateway = asyncio.create_task(client.connect(reconnect=False), name="bench-bare-gateway")
    try:
        await client.wait_until_ready()
        print(READY, flush=True)
        await _until_stdin_closes()
    finally:
        await client.close()
        await asyncio.gather(gateway, return_exceptions=True)
        restore()


def main(argv: list[str]) -> None:
    if not argv:
        for line in asyncio.run(run()):
            print(line)
        return
    kind, folder, api_url, gateway_url, token, guild = argv
    if kind == "clipdesk":
        asyncio.run(_serve_clipdesk(Path(folder), api_url, gateway_url, token, guild))
    else:
        asyncio.run(_serve_bare(Path(folder), api_url, gateway_url, token))


if __name__ == "__main__":
    main(sys.argv[1:])
