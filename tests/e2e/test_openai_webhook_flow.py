"""An OpenAI `video.completed` webhook wakes the worker that is waiting on that job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.web.app import create_web_app
from bot.domain import RequestStatus
from tests.e2e.paid_fakes import providers_for
from tests.fakes.openai import FakeOpenAI
from tests.support.harness import make_harness
from tests.support.waiting import wait_for
from tests.support.web import serving


async def test_a_signed_webhook_ends_the_wait_and_the_clip_is_delivered(
    tmp_path: Path, sqlite_url: str
) -> None:
    # The job never finishes by being polled; only the provider saying so (and the webhook) ends it.
    async with FakeOpenAI(tmp_path / "openai", steps=10_000, poll_after_ms=0) as openai:
        overrides: dict[str, Any] = {
            "openai_api_key": "sk-test",
            "openai_base_url": openai.base_url,
            "provider": "openai",
            "openai_webhook_secret": openai.webhook_secret,
            "auto_render_max_cost": 100.0,
            "refiner": "offline",
            "moderation": "local",
            # With a webhook the worker polls only as a safety net: from the cap (here 30 s) upwards.
            "poll_cap_seconds": 30.0,
        }
        h = await make_harness(
            tmp_path, sqlite_url, providers=providers_for(tmp_path, sqlite_url, overrides), **overrides
        )
        pokes: list[bool] = []
        poke = h.app.worker.poke

        def recording(remote_id: str) -> bool:
            pokes.append(poke(remote_id))
            return pokes[-1]

        h.app.worker.poke = recording  # type: ignore[method-assign]
        try:
            request = await h.ask("a 4s clip of a kite")
            assert request is not None
            await h.app.worker.claim_once()

            async def polled_once() -> bool:
                return len(openai.calls_to("GET", r"/v1/videos/[^/]+")) >= 1

            await wait_for(polled_once)
            [video_id] = list(openai.videos)
            openai.finish(video_id)
            async with serving(create_web_app(h.app)) as base:
                status = await openai.send_webhook(f"{base}/webhooks/openai", "video.completed", video_id)
            assert status == 200 and pokes == [True]
            done = await h.run_until(request.id, [RequestStatus.IN_REVIEW])
            assert done.status == RequestStatus.IN_REVIEW and len(h.chat.of_kind("clip")) == 1
            # One poll before the webhook and one because of it: the 30 s safety-net poll never came.
            assert len(openai.calls_to("GET", r"/v1/videos/[^/]+")) == 2
        finally:
            await h.close()
