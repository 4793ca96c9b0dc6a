"""``POST /webhooks/openai`` in the web app: replays do nothing, bodies are capped, one-line refusals."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.web.app import create_web_app
from adapters.web.replays import ReplayGuard
from tests.fakes.openai import FakeOpenAI, WebhookDelivery, new_webhook_secret
from tests.support.harness import Harness, make_harness
from tests.support.web import post_streaming, serving


@dataclass
class Hooked:
    harness: Harness
    openai: FakeOpenAI
    url: str
    pokes: list[str]


@pytest.fixture
async def hooked(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Hooked]:
    async with FakeOpenAI(tmp_path / "openai") as openai:
        h = await make_harness(
            tmp_path,
            sqlite_url,
            openai_webhook_secret=openai.webhook_secret,
            openai_base_url=openai.base_url,
            openai_api_key="sk-test",
        )
        pokes: list[str] = []
        poke = h.app.worker.poke

        def counted(remote_id: str) -> bool:
            pokes.append(remote_id)
            return poke(remote_id)

        h.app.worker.poke = counted  # type: ignore[method-assign]
        try:
            async with serving(create_web_app(h.app)) as base:
                yield Hooked(h, openai, f"{base}/webhooks/openai", pokes)
        finally:
            await h.close()


async def test_one_signed_delivery_replayed_100_times_pokes_the_worker_once(hooked: Hooked) -> None:
    captured = hooked.openai.webhook_delivery("video.completed", "video_abc")
    statuses = [await captured.post(hooked.url) for _ in range(100)]
    assert statuses == [200] * 100
    assert hooked.pokes == ["video_abc"]


async def test_two_different_deliveries_each_poke(hooked: Hooked) -> None:
    for video in ("video_1", "video_2"):
        assert await hooked.openai.webhook_delivery("video.completed", video).post(hooked.url) == 200
    assert hooked.pokes == ["video_1", "video_2"]


async def test_a_replay_with_another_id_but_the_same_signature_does_not_verify(hooked: Hooked) -> None:
    captured = hooked.openai.webhook_delivery("video.completed", "video_abc")
    assert await captured.post(hooked.url) == 200
    forged = WebhookDelivery(captured.body, {**captured.headers, "webhook-id": "wh_fresh"})
    assert await forged.post(hooked.url) == 400
    assert hooked.pokes == ["video_abc"]


async def test_an_8_mb_webhook_is_refused_413_with_one_line_and_no_body(
    hooked: Hooked, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    status = await post_streaming(
        hooked.url,
        8 * 1024 * 1024,
        filler=b'{"SECRETBODYTEXT": 1}',
        headers={"Content-Type": "application/json"},
    )
    assert status == 413
    lines = [r.getMessage() for r in caplog.records if r.name != "uvicorn.access"]
    assert lines == [
        "refused POST /webhooks/openai from 127.0.0.1: 413 a 8388608-byte body is over the 1 MiB limit"
    ]
    assert hooked.pokes == []


async def test_an_unsigned_webhook_is_one_line_without_the_body(
    hooked: Hooked, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    status = await hooked.openai.send_webhook(
        hooked.url, "video.completed", "video_SECRETBODYTEXT", secret=new_webhook_secret()
    )
    assert status == 400
    lines = [r.getMessage() for r in caplog.records if r.name != "uvicorn.access"]
    assert len(lines) == 1 and lines[0].startswith("refused POST /webhooks/openai from 127.0.0.1: 400")
    assert "SECRETBODYTEXT" not in caplog.text


def test_delivery_ids_are_forgotten_when_their_signature_window_closes() -> None:
    now = [1000.0]
    guard = ReplayGuard(window_seconds=300, clock=lambda: now[0])
    assert guard.claim("wh_1", sent_at=1000) and not guard.claim("wh_1", sent_at=1000)
    now[0] = 1301.0  # the signature check refuses it from here on anyway
    assert guard.claim("wh_2", sent_at=1301) and len(guard) == 1


def test_a_failed_delivery_is_released_so_the_retry_is_handled() -> None:
    guard = ReplayGuard()
    assert guard.claim("wh_1", sent_at=0)
    guard.release("wh_1")
    assert guard.claim("wh_1", sent_at=0)


def test_the_cache_is_bounded() -> None:
    guard = ReplayGuard(max_entries=100, clock=lambda: 0.0)
    for i in range(1000):
        guard.claim(f"wh_{i}", sent_at=0)
    assert len(guard) == 100
