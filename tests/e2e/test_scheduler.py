"""`serve`'s loops drive a request to review with nobody calling the worker or the outbox by hand."""

from __future__ import annotations

from pathlib import Path

from adapters.runtime.scheduler import start_loops
from bot.domain import RequestStatus
from tests.support.harness import make_harness
from tests.support.waiting import wait_for


async def test_the_loops_claim_render_and_deliver_as_soon_as_work_is_committed(
    tmp_path: Path, sqlite_url: str
) -> None:
    # A tick far longer than the test may take: only the wake-ups can get the clip out in time.
    h = await make_harness(tmp_path, sqlite_url, tick_seconds=3600)
    loops = start_loops(h.app)
    try:
        names = {job.id for job in loops.scheduler.get_jobs()}
        assert {"reap", "resume_intake", "retention", "expire_reviews"} <= names
        request = await h.ask("a 4s clip of a kite")
        assert request is not None

        async def clip_posted() -> bool:
            current = await h.app.store.requests.get_request(request.id)
            return bool(current and current.status == RequestStatus.IN_REVIEW and h.chat.of_kind("clip"))

        await wait_for(clip_posted, seconds=120)
        assert len(h.chat.of_kind("clip")) == 1
    finally:
        await loops.stop()
        await h.close()
