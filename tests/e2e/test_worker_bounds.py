"""Resource faults wait and resume; a hung provider call fails the render within its deadline."""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path

from bot.domain import Brief, Render, RenderStatus, RequestStatus, VideoRequest
from bot.ports import ProcessedClip, RemoteStatus
from storage.media import LocalMediaStore
from tests.support.harness import make_harness
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider
from tests.support.waiting import wait_for

R = RequestStatus


class FullDisk(FilingPostProcessor):
    """Post-processing that finds the media folder full until space is freed."""

    def __init__(self, media: LocalMediaStore) -> None:
        super().__init__(media)
        self.full = True
        self.refused = 0

    async def process(self, render: Render, brief: Brief, request: VideoRequest, clip: Path) -> ProcessedClip:
        if self.full:
            self.refused += 1
            raise OSError(errno.ENOSPC, "No space left on device", str(self.media.clip_path(render.id)))
        return await super().process(render, brief, request, clip)


async def test_a_full_media_folder_delays_the_render_and_it_finishes_once_space_is_freed(
    tmp_path: Path, db_url: str
) -> None:
    provider = FileJobProvider(tmp_path / "jobs")
    media = LocalMediaStore(tmp_path / "data" / "media")
    post = FullDisk(media)
    h = await make_harness(tmp_path, db_url, providers={"filejob": provider}, post=post, max_attempts=50)
    try:
        request = await h.ask("a 4s clip of a lighthouse at dusk")
        assert request is not None

        async def refused_twice() -> bool:
            await h.app.worker.claim_once()
            await h.app.worker.drain()
            return post.refused >= 2

        await wait_for(refused_twice)
        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.status == RenderStatus.POSTPROCESSING  # paid work kept, waiting for space
        assert render.failure_reason and "full" in render.failure_reason and "/" not in render.failure_reason
        assert (await h.request(request.id)).status == R.RENDERING

        post.full = False  # an operator freed space
        await h.run_until(request.id, [R.IN_REVIEW])
        assert len(provider.submits()) == 1  # resumed from the download, never submitted again
        assert len(h.chat.of_kind("clip")) == 1
        texts = "\n".join(h.chat.texts())
        assert str(tmp_path) not in texts  # nobody is shown a server path
    finally:
        await h.close()


class HungStatus(FileJobProvider):
    """A provider whose status calls never answer (a stuck connection)."""

    async def status(self, remote_id: str) -> RemoteStatus:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_hung_status_call_fails_the_render_within_its_deadline_and_frees_the_slot(
    tmp_path: Path, db_url: str
) -> None:
    provider = HungStatus(tmp_path / "jobs")
    h = await make_harness(
        tmp_path,
        db_url,
        providers={"filejob": provider},
        render_timeout_seconds=1.5,
        provider_call_timeout_seconds=600.0,  # the deadline, not the call bound, must end it
    )
    try:
        request = await h.ask("a 4s clip of a lighthouse at dusk")
        assert request is not None
        failed = await h.run_until(request.id, [R.FAILED])
        assert (
            failed.failure_reason and "did not finish within 2 seconds of submission" in failed.failure_reason
        )
        assert h.app.worker.busy == 0  # the slot is free again
        [render] = await h.app.store.renders.renders_for(request.id)
        assert render.status == RenderStatus.FAILED and render.lease_owner is None
    finally:
        await h.close()
