"""`serve`'s APScheduler ticks drive a request to review with nobody calling the worker by hand."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.runtime.scheduler import start_scheduler
from bot.domain import RequestStatus
from tests.support.harness import make_harness


async def test_scheduler_ticks_claim_render_and_deliver(tmp_path: Path, sqlite_url: str) -> None:
    h = await make_harness(tmp_path, sqlite_url, tick_seconds=0.05)
    scheduler = start_scheduler(h.app)
    try:
        names = {job.id for job in scheduler.get_jobs()}
        assert {"claim", "deliver", "reap", "retention", "expire_reviews"} <= names
        request = await h.ask("a 4s clip of a kite")
        assert request is not None
        for _ in range(400):
            current = await h.app.store.get_request(request.id)
            if current and current.status == RequestStatus.IN_REVIEW and h.chat.of_kind("clip"):
                break
            await asyncio.sleep(0.05)
        assert len(h.chat.of_kind("clip")) == 1
    finally:
        scheduler.shutdown(wait=False)
        await h.close()
