"""OpenAI ``video.completed`` / ``video.failed`` webhooks: verify and parse a delivery.

A delivery only nudges the worker to poll now instead of waiting; the status
call stays the source of truth, so a lost or repeated delivery costs nothing.

The signature is checked by the SDK's own ``client.webhooks.verify_signature``
(Standard Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``,
a five-minute replay window, ``whsec_…`` secrets). The body is then parsed here,
because the openai 3.57 ``unwrap`` union no longer lists the video events.
The route that receives them is ``adapters.web.webhooks``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import pydantic
from openai import AsyncOpenAI, InvalidWebhookSignatureError

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/openai"
VIDEO_EVENTS = ("video.completed", "video.failed")

OnVideoEvent = Callable[[str, bool], Awaitable[None]]
"""``on_event(remote_id, completed)``: called once per verified video event."""


class InvalidWebhook(ValueError):
    """The delivery is not signed with our secret, is stale, or is malformed."""


@dataclass(frozen=True)
class VideoEvent:
    event_id: str
    remote_id: str
    completed: bool


class _EventData(pydantic.BaseModel):
    id: str


class _Event(pydantic.BaseModel):
    """The wire shape of an OpenAI webhook event (as for ``batch.completed``)."""

    id: str
    type: str
    created_at: int
    data: _EventData
    object: Literal["event"] | None = None


def parse_video_event(
    client: AsyncOpenAI, body: bytes, headers: Mapping[str, str], secret: str
) -> VideoEvent | None:
    """Verify a delivery and return its video event; ``None`` for an event type we do not handle.

    Raises:
        InvalidWebhook: bad or missing signature headers, a stale timestamp, or a malformed body.
    """
    try:
        client.webhooks.verify_signature(body, dict(headers), secret=secret)
    except (InvalidWebhookSignatureError, ValueError) as exc:  # ValueError: a header is missing
        raise InvalidWebhook(str(exc)) from exc
    try:
        event = _Event.model_validate_json(body)
    except pydantic.ValidationError as exc:
        raise InvalidWebhook(f"not an OpenAI event: {exc.error_count()} problems") from exc
    if event.type not in VIDEO_EVENTS:
        return None
    return VideoEvent(event.id, event.data.id, event.type == "video.completed")
