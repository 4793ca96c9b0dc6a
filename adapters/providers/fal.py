"""Hosted video models on fal.ai (Kling, MiniMax Hailuo, Pika, Wan, LTX) through the ``fal-client`` SDK.

The queue: ``submit`` posts to the model's endpoint (with ``fal_webhook`` when a
webhook URL is configured) and the remote id is ``"{endpoint}|{request_id}"``;
``status`` reads ``IN_QUEUE`` / ``IN_PROGRESS`` / ``COMPLETED`` and, once completed,
the result (``{"video": {"url": …}}``), which ``download`` streams from fal's CDN.
``cancel`` is the queue's ``PUT …/cancel``. A render that starts from a given
first frame goes to the model's image-to-video endpoint with the frame as a
``data:`` URI; models that take a closing frame get it too (see
:mod:`adapters.providers.fal_models`).

Retries, timeouts and the base URL are clipdesk's, not fal-client's (see
:mod:`adapters.providers.fal_queue`). fal's queue takes no idempotency key and
fal-client cannot list requests, so a create that ends ambiguously raises
``SubmissionUncertain`` and :meth:`FalProvider.find` cannot tell: reconciliation
is **uncertain**.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import fal_client

from adapters.providers import faults
from adapters.providers.downloads import data_uri, stream_url_to_file
from adapters.providers.fal_models import MODELS, FalModel, arguments
from adapters.providers.fal_queue import FalQueueClient, QueueFault
from bot.errors import (
    ContentRefused,
    InvalidOptions,
    PermanentProviderError,
    ProviderError,
    ReconcileUnsupported,
)
from bot.ports import Capabilities, ModelSpec, RemoteState, RemoteStatus, RenderSpec

log = logging.getLogger(__name__)

NAME = "fal"
LABEL = "fal"
MAX_PROMPT_CHARS = 2500
_POLICY = re.compile(r"content_policy_violation|content policy|nsfw|safety", re.IGNORECASE)


def make_client(*, key: str, base_url: str | None = None, timeout: float = 30.0) -> FalQueueClient:
    """fal-client's async client on clipdesk's transport (see :mod:`adapters.providers.fal_queue`)."""
    return FalQueueClient(key=key, default_timeout=timeout, base_url=base_url, timeout=timeout)


class FalProvider:
    """A :class:`~bot.ports.VideoProvider` for the video models fal hosts."""

    name = NAME
    reconciliation = "uncertain"  # no idempotency key and no request listing in fal-client

    def __init__(
        self,
        client: FalQueueClient,
        *,
        model: str = "kling-2.1-standard",
        prices: Mapping[str, float] | None = None,
        webhook_url: str | None = None,
        poll_seconds: float = 5.0,
    ) -> None:
        """Wrap ``client`` (see :func:`make_client`).

        Args:
            client: the fal-client queue client; only its base URL differs in tests.
            model: the default model, one of :data:`~adapters.providers.fal_models.MODELS`.
            prices: USD per second by model name, overriding the table's defaults.
            webhook_url: where fal posts completion (clipdesk's ``/webhooks/fal``), if reachable.
            poll_seconds: the polling hint while a request is queued or running.
        """
        if model not in MODELS:
            raise ValueError(f"unknown fal model {model!r}; known: {', '.join(MODELS)}")
        self._client = client
        self._model = model
        self._prices = {name: m.price for name, m in MODELS.items()} | dict(prices or {})
        self._webhook_url = webhook_url
        self._poll_seconds = poll_seconds
        self._results: dict[str, str] = {}  # remote id -> video URL, kept from the completing poll

    def capabilities(self) -> Capabilities:
        models = tuple(
            ModelSpec(
                name=m.name,
                durations=m.durations,
                sizes=dict(m.sizes),
                price_per_second=self._prices[m.name],
                audio=m.audio,
                max_prompt_chars=MAX_PROMPT_CHARS,
                continuity=m.continuity,
                tier=m.tier,
            )
            for m in MODELS.values()
        )
        return Capabilities(NAME, models, default_model=self._model, label="fal.ai")

    async def aclose(self) -> None:
        await self._client.aclose()

    async def submit(self, spec: RenderSpec) -> str:
        model = self._check(spec)
        image = await asyncio.to_thread(data_uri, spec.first_frame) if spec.first_frame else None
        last = await asyncio.to_thread(data_uri, spec.last_frame) if spec.last_frame else None
        endpoint = model.image_endpoint if image and model.image_endpoint else model.text_endpoint
        body = arguments(
            model,
            prompt=spec.prompt or spec.brief.prompt,
            negative=spec.brief.negative_prompt,
            seconds=spec.seconds,
            aspect=spec.aspect,
            seed=spec.seed,
            image_url=image,
            last_image_url=last,
        )
        # The endpoint rides in the webhook URL, so a delivery names the job as clipdesk knows it.
        hook = f"{self._webhook_url}?{urlencode({'endpoint': endpoint})}" if self._webhook_url else None
        try:
            handle = await self._client.submit(endpoint, body, webhook_url=hook)
        except QueueFault as exc:
            raise _fault(exc, faults.CREATE) from exc
        except (ValueError, KeyError, TypeError) as exc:  # a 2xx whose body is not fal's JSON
            raise faults.unexpected_response(NAME, faults.CREATE, exc, label=LABEL) from exc
        return f"{endpoint}|{handle.request_id}"

    async def status(self, remote_id: str) -> RemoteStatus:
        endpoint, request_id = _split(remote_id)
        try:
            state = await self._client.status(endpoint, request_id)
        except QueueFault as exc:
            raise _fault(exc, "status") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise faults.unexpected_response(NAME, "status", exc, label=LABEL) from exc
        if isinstance(state, fal_client.Queued):
            return RemoteStatus(RemoteState.QUEUED, poll_after=self._poll_seconds)
        if isinstance(state, fal_client.InProgress):
            return RemoteStatus(RemoteState.RUNNING, progress=50, poll_after=self._poll_seconds)
        if not isinstance(state, fal_client.Completed):
            raise faults.unexpected_response(NAME, "status", state, label=LABEL)
        if state.error:
            refused = bool(_POLICY.search(f"{state.error_type} {state.error}"))
            return RemoteStatus(RemoteState.FAILED, error=str(state.error), refused=refused, charged=False)
        try:
            self._results[remote_id] = await self._video_url(endpoint, request_id)
        except PermanentProviderError as exc:
            refused = isinstance(exc, ContentRefused)
            return RemoteStatus(RemoteState.FAILED, error=str(exc), refused=refused, charged=False)
        return RemoteStatus(RemoteState.COMPLETED, progress=100)

    async def download(self, remote_id: str, dest: Path) -> None:
        url = self._results.pop(remote_id, None) or await self._video_url(*_split(remote_id))
        await stream_url_to_file(url, dest, provider=NAME, label=LABEL)

    async def find(self, spec: RenderSpec, *, since: datetime | None = None) -> str | None:
        """fal's queue cannot be searched: an uncertain submit stays uncertain."""
        self._check(spec)
        raise ReconcileUnsupported("fal's queue takes no idempotency key and cannot be listed", provider=NAME)

    async def cancel(self, remote_id: str) -> None:
        """``PUT …/requests/{id}/cancel``; a request that already finished is left as it is."""
        try:
            await self._client.cancel(*_split(remote_id))
        except QueueFault as exc:
            if exc.status != 400:  # 400: ALREADY_COMPLETED
                raise _fault(exc, "cancel") from exc

    # ------------------------------------------------------------------ helpers

    def _check(self, spec: RenderSpec) -> FalModel:
        """Refuse what the model cannot make, before anything is spent."""
        self.capabilities().model(spec.model)
        model = MODELS[spec.model]
        if spec.seconds not in model.durations:
            allowed = ", ".join(str(d) for d in model.durations)
            raise InvalidOptions(f"fal {model.name} makes clips of {allowed} seconds, not {spec.seconds}.")
        if model.sizes.get(spec.aspect) != spec.size:
            raise InvalidOptions(f"fal {model.name} cannot make a {spec.aspect} clip at {spec.size}.")
        if (spec.first_frame or spec.last_frame) and not model.image_endpoint:
            raise InvalidOptions(f"fal {model.name} cannot start from a given frame.")
        if spec.last_frame and not model.last_frame_arg:
            raise InvalidOptions(f"fal {model.name} cannot end on a given frame.")
        if spec.extend_remote_id:
            raise InvalidOptions(f"fal {model.name} cannot extend an earlier clip.")
        if len(spec.prompt or spec.brief.prompt) > MAX_PROMPT_CHARS:
            raise InvalidOptions(f"fal takes prompts of at most {MAX_PROMPT_CHARS} characters.")
        return model

    async def _video_url(self, endpoint: str, request_id: str) -> str:
        try:
            # The SDK's own result(): one more status call, then GET response_url.
            result: Any = await self._client.result(endpoint, request_id)
        except QueueFault as exc:
            raise _fault(exc, "result") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise faults.unexpected_response(NAME, "result", exc, label=LABEL) from exc
        video = result.get("video") if isinstance(result, dict) else None
        if isinstance(video, dict) and isinstance(video.get("url"), str):
            return str(video["url"])
        if isinstance(result, dict) and ("images" in result or "image" in result):
            raise PermanentProviderError(f"fal {endpoint} returned an image, not a video", provider=NAME)
        raise faults.unexpected_response(NAME, "result", result, label=LABEL)


def _split(remote_id: str) -> tuple[str, str]:
    endpoint, sep, request_id = remote_id.rpartition("|")
    if not sep or not endpoint or not request_id:
        raise PermanentProviderError(f"not a fal request id: {remote_id!r}", provider=NAME)
    return endpoint, request_id


def _fault(exc: QueueFault, action: str) -> ProviderError:
    if exc.status is None:
        if not exc.connected:
            return faults.unreachable(NAME, exc, label=LABEL)
        return faults.in_transit(NAME, action, exc, label=LABEL)
    detail = _detail(str(exc))
    refused = exc.status in (400, 422) and bool(
        _POLICY.search(f"{exc.headers.get('x-fal-error-type', '')} {exc}")
    )
    return faults.status_error(
        NAME, action, exc.status, detail, headers=exc.headers, refused=refused, label=LABEL
    )


def _detail(body: str) -> str:
    """fal's ``{"detail": …}`` (a string or a list of ``{"msg": …}``), else the raw body."""
    try:
        data = json.loads(body)
    except ValueError:
        return body[:300]
    detail = data.get("detail") if isinstance(data, dict) else None
    if isinstance(detail, list):
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return str(detail or body)[:300]
