"""OpenAI video webhooks: deliveries signed as OpenAI signs them, verified by the SDK's helper."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from fastapi import FastAPI
from openai import AsyncOpenAI

from adapters.providers.openai_webhooks import WEBHOOK_PATH, InvalidWebhook, parse_video_event
from adapters.web.refusals import RefusalLog
from adapters.web.webhooks import openai_webhook_router
from tests.fakes.openai import FakeOpenAI, new_webhook_secret, sign_webhook
from tests.support.web import serving


@pytest.fixture
async def fake_openai(tmp_path: Path) -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(tmp_path / "fake_openai") as fake:
        yield fake


@pytest.fixture
async def openai_client(fake_openai: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    async with fake_openai.client() as client:
        yield client


@dataclass
class Receiver:
    url: str
    events: list[tuple[str, bool]] = field(default_factory=list)
    broken: bool = False

    async def __call__(self, remote_id: str, completed: bool) -> None:
        if self.broken:
            raise RuntimeError("the store is down")
        self.events.append((remote_id, completed))


@pytest.fixture
async def receiver(fake_openai: FakeOpenAI, openai_client: AsyncOpenAI) -> AsyncIterator[Receiver]:
    box = Receiver(url="")
    app = FastAPI()
    app.include_router(openai_webhook_router(openai_client, fake_openai.webhook_secret, box, RefusalLog()))
    async with serving(app) as base:
        box.url = f"{base}{WEBHOOK_PATH}"
        yield box


@pytest.mark.parametrize(("event_type", "completed"), [("video.completed", True), ("video.failed", False)])
async def test_signed_video_event_reaches_the_handler(
    fake_openai: FakeOpenAI, receiver: Receiver, event_type: str, completed: bool
) -> None:
    status = await fake_openai.send_webhook(receiver.url, event_type, "video_abc123")
    assert status == 200
    assert receiver.events == [("video_abc123", completed)]


async def test_delivery_signed_with_another_secret_is_rejected_and_nothing_is_called(
    fake_openai: FakeOpenAI, receiver: Receiver
) -> None:
    status = await fake_openai.send_webhook(
        receiver.url, "video.completed", "video_abc123", secret=new_webhook_secret()
    )
    assert status == 400
    assert receiver.events == []


async def test_tampered_body_is_rejected(fake_openai: FakeOpenAI, receiver: Receiver) -> None:
    status = await fake_openai.send_webhook(receiver.url, "video.completed", "video_abc123", tamper=True)
    assert status == 400
    assert receiver.events == []


async def test_replayed_old_delivery_is_rejected(fake_openai: FakeOpenAI, receiver: Receiver) -> None:
    status = await fake_openai.send_webhook(
        receiver.url, "video.completed", "video_abc123", timestamp=int(time.time()) - 3600
    )
    assert status == 400
    assert receiver.events == []


async def test_unsigned_post_is_rejected(receiver: Receiver) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            receiver.url, json={"type": "video.completed", "data": {"id": "video_abc123"}}
        ) as response,
    ):
        assert response.status == 400
    assert receiver.events == []


async def test_other_event_types_are_acknowledged_but_ignored(
    fake_openai: FakeOpenAI, receiver: Receiver
) -> None:
    assert await fake_openai.send_webhook(receiver.url, "batch.completed", "batch_1") == 200
    assert receiver.events == []


async def test_handler_failure_answers_500_so_openai_delivers_again(
    fake_openai: FakeOpenAI, receiver: Receiver
) -> None:
    receiver.broken = True
    assert await fake_openai.send_webhook(receiver.url, "video.completed", "video_abc123") == 500


def test_parse_video_event_verifies_with_the_sdk_and_returns_the_event(
    openai_client: AsyncOpenAI,
) -> None:
    secret = new_webhook_secret()
    body = (
        '{"object": "event", "id": "evt_1", "type": "video.failed", "created_at": 1, '
        '"data": {"id": "video_9"}}'
    )
    ts = int(time.time())
    headers = {
        "webhook-id": "wh_1",
        "webhook-timestamp": str(ts),
        "webhook-signature": sign_webhook(secret, "wh_1", ts, body),
    }
    event = parse_video_event(openai_client, body.encode(), headers, secret)
    assert event is not None
    assert (event.event_id, event.remote_id, event.completed) == ("evt_1", "video_9", False)
    with pytest.raises(InvalidWebhook):
        parse_video_event(openai_client, body.encode(), headers, new_webhook_secret())
    with pytest.raises(InvalidWebhook):
        parse_video_event(openai_client, body.encode(), {"webhook-id": "wh_1"}, secret)


async def test_a_delivery_that_failed_is_handled_when_openai_sends_it_again(
    fake_openai: FakeOpenAI, receiver: Receiver
) -> None:
    delivery = fake_openai.webhook_delivery("video.completed", "video_abc123")
    receiver.broken = True
    assert await delivery.post(receiver.url) == 500
    receiver.broken = False
    assert await delivery.post(receiver.url) == 200  # the same webhook-id: not taken for a replay
    assert await delivery.post(receiver.url) == 200  # now it is one
    assert receiver.events == [("video_abc123", True)]
