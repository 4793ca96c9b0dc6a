"""Clips into threads: over the server's upload limit, under a 429, and from a send-only worker."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from adapters.discord.platform import discord_platform
from adapters.runtime.container import build_app
from bot.domain import RequestStatus
from bot.ports import VideoProvider
from storage.media import LocalMediaStore
from tests.discord.conftest import World, clip_message, messages_in, start_bot
from tests.fakes.media import decode_to_end
from tests.support.driving import run_until
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider

R = RequestStatus
PUBLIC_URL = "https://clips.example.test"

DECIDE = ["Approve", "Regenerate", "Edit prompt", "Reject"]


def size_of(path: str | None) -> int:
    return Path(path or "").stat().st_size


def big_clips(tmp_path: Path) -> dict[str, VideoProvider]:
    """2-second 640x360 clips: about 115 KB, over the small limits below."""
    return {"filejob": FileJobProvider(tmp_path / "jobs", clip_seconds=2.0, clip_size="640x360")}


async def test_a_clip_over_the_upload_limit_is_re_encoded_to_fit(
    world: World, tmp_path: Path, sqlite_url: str
) -> None:
    limit = 80 * 1024
    world.fake.guild.attachment_size_limit = limit  # what the interactions report, and what the fake enforces
    bot = await start_bot(world, tmp_path, sqlite_url, providers=big_clips(tmp_path), public_url=PUBLIC_URL)
    try:
        request, clip = await bot.ready_for_review()
        [render] = await bot.app.store.renders.renders_for(request.id)
        assert size_of(render.clip_path) > limit

        [attachment] = clip.attachments
        assert attachment["size"] <= limit
        received = tmp_path / "received.mp4"
        received.write_bytes(clip.files[attachment["id"]])
        facts = decode_to_end(received)
        assert facts.frames >= 40 and abs(facts.seconds - 2.0) < 0.2  # all of it, still moving
        assert (facts.width, facts.height) == (426, 240)
        assert "Re-encoded to 426×240 to fit this server's 80 KB upload limit" in clip.text()
        assert f"({PUBLIC_URL}/media/clips/{render.id}.mp4?expires=" in clip.text()
        assert [b["label"] for b in clip.buttons()] == [*DECIDE, "Open review page"]  # a public URL is set
    finally:
        await bot.stop()


async def test_a_clip_that_cannot_shrink_watchably_is_linked_with_a_note(
    world: World, tmp_path: Path, sqlite_url: str
) -> None:
    world.fake.guild.attachment_size_limit = 12 * 1024
    bot = await start_bot(world, tmp_path, sqlite_url, providers=big_clips(tmp_path), public_url=PUBLIC_URL)
    try:
        request, clip = await bot.ready_for_review()
        [render] = await bot.app.store.renders.renders_for(request.id)
        assert clip.attachments == []
        assert f"[Watch the clip]({PUBLIC_URL}/media/clips/{render.id}.mp4?expires=" in clip.text()
        assert "over this server's" in clip.text() and "upload limit" in clip.text()
        assert [b["label"] for b in clip.buttons()] == [*DECIDE, "Open review page"]  # a public URL is set
        # Never lost: the clip is still in the media store, and the request still awaits review.
        assert size_of(render.clip_path) > 0 and request.status == R.IN_REVIEW
    finally:
        await bot.stop()


async def test_without_a_public_url_an_unshrinkable_clip_names_its_file_not_a_local_path(
    world: World, tmp_path: Path, sqlite_url: str
) -> None:
    world.fake.guild.attachment_size_limit = 12 * 1024
    bot = await start_bot(world, tmp_path, sqlite_url, providers=big_clips(tmp_path))
    try:
        request, clip = await bot.ready_for_review()
        [render] = await bot.app.store.renders.renders_for(request.id)
        assert clip.attachments == [] and f"`{render.id}.mp4`" in clip.text()
        assert "file://" not in clip.text() and "CLIPDESK_PUBLIC_URL" in clip.text()
    finally:
        await bot.stop()


async def test_a_429_on_message_create_is_retried_by_discord_py_and_the_message_arrives(
    world: World, tmp_path: Path, sqlite_url: str
) -> None:
    bot = await start_bot(world, tmp_path, sqlite_url)
    try:
        fake = world.fake
        fake.rate_limit("POST", "/channels/{id}/messages", times=1, retry_after=0.05)
        request = await bot.ask(seconds=4)

        creates = fake.calls_to("POST", "/channels/{id}/messages")
        assert [c.status for c in creates[:2]] == [429, 200]
        assert creates[0].path == creates[1].path == f"/channels/{world.channel.id}/messages"
        [parent] = messages_in(fake, world.channel.id)  # once, not twice
        assert request.target.thread == str(parent.id)
    finally:
        await bot.stop()


async def test_a_send_only_worker_posts_the_clip_without_a_gateway(
    world: World, tmp_path: Path, sqlite_url: str
) -> None:
    serve = await start_bot(world, tmp_path, sqlite_url)
    worker_platform = discord_platform(serve.settings, receive=False)
    media = LocalMediaStore(serve.settings.media_dir)
    worker = await build_app(
        serve.settings,
        chat_ports=[worker_platform.port],
        providers={"filejob": FileJobProvider(tmp_path / "jobs")},
        postprocessor=FilingPostProcessor(media),
        migrate=False,
        owner="worker-1",
    )
    try:
        request = await serve.ask(seconds=4)
        await worker_platform.start(worker, FastAPI())
        identifies = len(world.fake.identifies)
        await run_until(worker, request.id, [R.IN_REVIEW])
        clip = clip_message(world.fake, int(request.target.thread or 0))
        assert clip.attachments
        assert len(world.fake.identifies) == identifies  # the worker never opened a gateway
    finally:
        await worker_platform.stop()
        await worker.close()
        await serve.stop()
