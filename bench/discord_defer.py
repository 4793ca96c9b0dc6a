"""(d) Discord: INTERACTION_CREATE → the first answer at the REST API, 200 interactions at once.

The unmodified discord.py client runs against the fake Discord (tests/fakes/discord.py)
on loopback, wired to a real App (SQLite, offline refiner, a paid FileJobProvider so
every brief waits for its Render button). Two rounds, each 200 interactions sent back
to back on the gateway:

1. ``/video`` — answered with the ephemeral "🎬 on it" while the core opens 200 threads;
2. **Render** clicks on those 200 briefs — answered with a deferred update while the core
   queues 200 renders.

The clock starts when the fake writes the INTERACTION_CREATE frame and stops when the
callback request reaches the fake's REST API; Discord's own deadline is 3 s.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from aiohttp import web

from adapters.discord.platform import DiscordPlatform, discord_platform
from adapters.runtime.container import App, build_app
from bench.common import ms, percentile
from storage.database import upgrade
from storage.media import LocalMediaStore
from tests.fakes.discord import FakeDiscord, FakeInteraction, StoredMessage
from tests.support.harness import test_settings
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider

INTERACTIONS = 200
ONE_AT_A_TIME = 20
ROUND_TIMEOUT = 60.0  # seconds; the bench gives up rather than hang


async def _start(tmp: Path, fake: FakeDiscord) -> tuple[DiscordPlatform, App]:
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    settings = test_settings(
        tmp,
        url,
        discord_bot_token=fake.token,
        discord_api_url=fake.api_url,
        discord_gateway_url=fake.gateway_url,
        discord_guild_ids=str(fake.guild.id),
    )
    platform = discord_platform(settings, receive=True)
    media = LocalMediaStore(settings.media_dir)
    app = await build_app(
        settings,
        chat_ports=[platform.port],
        providers={"filejob": FileJobProvider(tmp / "jobs", price=0.10)},
        postprocessor=FilingPostProcessor(media),
        migrate=False,
    )
    await platform.start(app, web.Application())
    return platform, app


async def _burst(fake: FakeDiscord, interactions: list[FakeInteraction]) -> tuple[list[float], int]:
    """Send every INTERACTION_CREATE at once; the seconds each took to be answered, and refusals."""
    await asyncio.gather(*(fake.send_interaction(i) for i in interactions))
    await fake.wait_for(
        lambda: all(i.callbacks or i.rejected for i in interactions), ROUND_TIMEOUT, "every callback"
    )
    answered = [i.callback_at - i.sent_at for i in interactions if i.callback_at is not None]
    return answered, sum(1 for i in interactions if i.rejected)


def _line(label: str, latencies: list[float], refused: int) -> str:
    return (
        f"    {label:<28} p50 {ms(percentile(latencies, 50))}, p99 {ms(percentile(latencies, 99))}, "
        f"max {ms(max(latencies))}; answered {len(latencies)}/{INTERACTIONS}, late or refused {refused}"
    )


async def _settled(platform: DiscordPlatform) -> None:
    assert platform.handlers is not None
    for _ in range(int(ROUND_TIMEOUT * 20)):
        if platform.handlers.pending == 0:
            return
        await asyncio.sleep(0.05)


async def run() -> list[str]:
    lines = ["(d) Discord INTERACTION_CREATE → first answer (discord.py, fake Discord, loopback)"]
    with tempfile.TemporaryDirectory() as folder:
        fake = await FakeDiscord().start()
        members = [fake.add_member(f"member{i}") for i in range(INTERACTIONS)]
        platform, app = await _start(Path(folder), fake)
        try:
            alone: list[float] = []
            for n, member in enumerate(members[:ONE_AT_A_TIME]):
                single = fake.slash_interaction("video", member, {"prompt": f"a 4s demo of cup {n}"})
                answered, _ = await _burst(fake, [single])
                alone += answered
                await _settled(platform)
            lines.append(
                f"    {'/video, one at a time':<28} p50 {ms(percentile(alone, 50))}, "
                f"p99 {ms(percentile(alone, 99))} ({ONE_AT_A_TIME} in a row, for comparison)"
            )

            prompts = [f"a 4s demo of bottle number {n}" for n in range(INTERACTIONS)]
            commands = [
                fake.slash_interaction("video", member, {"prompt": prompt, "seconds": 4})
                for member, prompt in zip(members, prompts, strict=True)
            ]
            latencies, refused = await _burst(fake, commands)
            lines.append(_line(f"/video, {INTERACTIONS} at once", latencies, refused))

            await _settled(platform)
            briefs = _briefs(fake, "bottle number")
            lines.append(f"    threads opened with a brief: {len(briefs)}/{INTERACTIONS}")

            clicks = [
                fake.click_interaction(brief, "Render", member)
                for member, brief in zip(members, briefs, strict=False)
            ]
            if clicks:
                latencies, refused = await _burst(fake, clicks)
                lines.append(_line(f"Render click, {len(clicks)} at once", latencies, refused))
            await _settled(platform)
        finally:
            await platform.stop()
            await app.close()
            await fake.close()
    return lines


def _briefs(fake: FakeDiscord, words: str) -> list[StoredMessage]:
    """First briefs still waiting for their Render click, of the asks that mention ``words``."""
    return [
        m
        for m in fake.messages.values()
        if m.via == "bot" and m.content.startswith("📝 Brief v1") and m.buttons() and words in m.text()
    ]


if __name__ == "__main__":
    for line in asyncio.run(run()):
        print(line)
