"""Clips are reachable only through signed, unexpired links; nothing else in the media folder is."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
import time
from collections.abc import AsyncIterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
import yarl

from adapters.web.app import create_web_app
from adapters.web.media import OneFileResponse
from storage.links import LinkCheck, link_signer, load_or_create_secret
from storage.media import LocalMediaStore
from tests.fakes.media import write_test_mp4
from tests.support.harness import Harness, make_harness
from tests.support.web import serving

PUBLIC = "https://clips.example.test"


@dataclass
class Served:
    harness: Harness
    base: str
    clip: Path

    @property
    def media(self) -> LocalMediaStore:
        return self.harness.app.media

    def local(self, link: str) -> str:
        """The link as this test reaches it: the public URL swapped for the local server."""
        assert link.startswith(PUBLIC)
        return self.base + link.removeprefix(PUBLIC)

    async def get(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(yarl.URL(url, encoded=True), headers=headers or {}) as response,
        ):
            return response.status, await response.read()


@pytest.fixture
async def served(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Served]:
    h = await make_harness(tmp_path, sqlite_url, public_url=PUBLIC)
    media = h.app.media
    clip = write_test_mp4(media.clip_path("rnd_finished"), seconds=1.0)
    # What else lives in the media folder: none of it may be served.
    clip.with_name("rnd_finished.provenance.json").write_text('{"requester": "U0SECRET"}')
    clip.with_name(".rnd_next.staged.mp4").write_bytes(b"half-made")
    write_test_mp4(media.work_dir("downloads") / "rnd_finished.mp4", seconds=1.0)
    (media.work_dir("animatic") / "anim_1").mkdir()
    (media.work_dir("animatic") / "anim_1" / "clip.mp4").write_bytes(b"job file")
    try:
        async with serving(create_web_app(h.app)) as base:
            yield Served(h, base, clip)
    finally:
        await h.close()


async def test_a_signed_link_serves_the_finished_clip(served: Served) -> None:
    status, body = await served.get(served.local(served.media.url_for(served.clip)))
    assert status == 200 and body == served.clip.read_bytes()


async def test_players_can_seek_with_ranges(served: Served) -> None:
    status, body = await served.get(served.local(served.media.url_for(served.clip)), {"Range": "bytes=0-99"})
    assert status == 206 and body == served.clip.read_bytes()[:100]


async def test_a_clip_without_a_signature_is_refused(served: Served) -> None:
    assert (await served.get(f"{served.base}/media/clips/rnd_finished.mp4"))[0] == 403


@pytest.mark.parametrize("part", ["sig", "expires", "path"])
async def test_a_tampered_link_is_refused_403(served: Served, part: str) -> None:
    link = served.media.url_for(served.clip)
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    path = "/media/clips/rnd_finished.mp4"
    if part == "sig":
        query["sig"] = query["sig"][:-2] + ("AA" if not query["sig"].endswith("AA") else "BB")
    elif part == "expires":
        query["expires"] = str(int(query["expires"]) + 3600)  # a longer life than was signed
    else:
        other = write_test_mp4(served.media.clip_path("rnd_other"), seconds=1.0)
        path = f"/media/clips/{other.name}"  # another clip, with this clip's signature
    url = f"{served.base}{path}?expires={query['expires']}&sig={query['sig']}"
    assert (await served.get(url))[0] == 403


async def test_an_expired_link_is_gone(served: Served) -> None:
    links = served.media.links
    assert links is not None
    link = served.local(served.media.url_for(served.clip))
    assert (await served.get(link))[0] == 200
    links.clock = lambda: time.time() + links.ttl_seconds + 1  # a week later
    assert (await served.get(link))[0] == 410


@pytest.mark.parametrize(
    "path",
    [
        "/media/downloads/rnd_finished.mp4",  # the provider original: no watermark, no signature
        "/media/animatic/anim_1/clip.mp4",
        "/media/clips/rnd_finished.provenance.json",
        "/media/clips/.rnd_next.staged.mp4",
        "/media/clips/..%2Fdownloads%2Frnd_finished.mp4",
        "/media/clips/..%2F..%2Flink_secret",
        "/media/clips/%2E%2E/downloads/rnd_finished.mp4",
        "/media/../clipdesk.db",
    ],
)
async def test_nothing_but_finished_clips_is_reachable_even_with_a_valid_signature(
    served: Served, path: str
) -> None:
    links = served.media.links
    assert links is not None
    status, body = await served.get(f"{served.base}{path}?{links.query(path)}")
    assert status in (403, 404) and b"U0SECRET" not in body and b"job file" not in body


async def test_a_symlink_planted_among_the_clips_leads_nowhere(served: Served, tmp_path: Path) -> None:
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"not a clip of ours")
    (served.clip.parent / "rnd_planted.mp4").symlink_to(outside)
    links = served.media.links
    assert links is not None
    path = "/media/clips/rnd_planted.mp4"
    status, body = await served.get(f"{served.base}{path}?{links.query(path)}")
    assert status == 404 and body != outside.read_bytes()


def test_only_finished_clips_get_links(served: Served) -> None:
    for path in (
        served.clip.with_name("rnd_finished.provenance.json"),
        served.media.work_dir("downloads") / "rnd_finished.mp4",
    ):
        with pytest.raises(ValueError, match="not a finished clip"):
            served.media.url_for(path)


def test_the_generated_secret_is_private_and_shared_by_every_process_on_the_data_dir(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path)
    assert stat.S_IMODE((tmp_path / "link_secret").stat().st_mode) == 0o600
    assert load_or_create_secret(tmp_path) == first  # a worker and the server sign alike
    os.chmod(tmp_path / "link_secret", 0o644)
    assert load_or_create_secret(tmp_path) == first
    assert stat.S_IMODE((tmp_path / "link_secret").stat().st_mode) == 0o600


def test_a_configured_secret_wins_and_must_be_long_enough(tmp_path: Path) -> None:
    signer = link_signer("s" * 40, tmp_path, ttl_seconds=60)
    assert not (tmp_path / "link_secret").exists()
    expires = int(time.time()) + 60
    good = signer.signature("/media/clips/a.mp4", expires)
    assert signer.check("/media/clips/a.mp4", str(expires), good) == LinkCheck.VALID
    assert (
        link_signer("t" * 40, tmp_path).check("/media/clips/a.mp4", str(expires), good) == LinkCheck.INVALID
    )
    with pytest.raises(ValueError, match="at least 32 characters"):
        link_signer("short", tmp_path)


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(lambda _: load_or_create_secret(tmp_path), range(16)))
    assert len(secrets) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["link_secret"]  # no temporary files left


async def test_a_clip_renamed_over_while_it_is_served_is_sent_whole(served: Served) -> None:
    # An approval re-signs its clip in place: a bigger file renamed over the name. Fetched meanwhile,
    # each response is one version whole; the old length with the new bytes was cut off mid-clip.
    versions = [served.clip.read_bytes(), served.clip.read_bytes() + b"\0" * 70_000]
    staged = served.clip.with_name(".rnd_finished.sealing.mp4")
    stop = threading.Event()

    def reseal() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            staged.write_bytes(versions[i % 2])
            os.replace(staged, served.clip)

    url = served.local(served.media.url_for(served.clip))
    with ThreadPoolExecutor(1) as pool:
        resealing = pool.submit(reseal)
        try:
            got = [await asyncio.gather(*(served.get(url) for _ in range(4))) for _ in range(30)]
        finally:
            stop.set()
        resealing.result(timeout=10)
    bodies = [body for round_ in got for status, body in round_ if status == 200]
    assert len(bodies) == 120 and all(body in versions for body in bodies)


async def test_length_and_bytes_come_from_the_file_the_route_opened(tmp_path: Path) -> None:
    clip = tmp_path / "rnd_x.mp4"
    clip.write_bytes(b"old clip")
    response = OneFileResponse(clip.open("rb"), clip, media_type="video/mp4")
    staged = tmp_path / ".rnd_x.sealing.mp4"
    staged.write_bytes(b"the re-signed, longer clip")
    os.replace(staged, clip)  # between the route opening the clip and the response being sent
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def receive() -> MutableMapping[str, Any]:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "GET", "headers": [], "asgi": {"spec_version": "2.4"}}
    await asyncio.wait_for(response(scope, receive, send), 10)
    headers = dict(sent[0]["headers"])
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert headers[b"content-length"] == b"8" and body == b"old clip"
