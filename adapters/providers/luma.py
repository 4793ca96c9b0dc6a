"""Luma Dream Machine (``ray-2``, ``ray-flash-2``) through the official ``lumaai`` SDK.

``POST /generations/video`` with model, prompt, duration (``"5s"``/``"9s"``),
aspect ratio, resolution and, for chained shots, ``keyframes``: ``frame0`` (the
start) and ``frame1`` (the end), each an image URL or an earlier generation
(``{"type": "generation", "id": …}``), which is how Luma extends a clip. The
remote id is the generation id; ``GET /generations/{id}`` reports ``queued`` →
``dreaming`` → ``completed`` (``assets.video``) or ``failed`` (``failure_reason``).
With a webhook URL each create names a signed ``callback_url`` (see
:mod:`adapters.providers.luma_webhooks`).

Images: Luma takes keyframe images only as URLs. Starting or ending on a given
image needs ``image_url``, a function that publishes a frame and returns its URL;
without one, only extension (an earlier Luma generation) is offered.

At most one paid job: retries are off (``max_retries=0``); an ambiguous create
raises ``SubmissionUncertain`` and :meth:`LumaProvider.find` lists recent
generations for one whose echoed request matches (exact when the signed callback
URL, which carries the render's key, is part of it).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import lumaai
from lumaai import AsyncLumaAI
from lumaai.types import Generation

from adapters.providers import faults
from adapters.providers.downloads import stream_url_to_file
from adapters.providers.luma_webhooks import signed_callback_url
from adapters.providers.reconcile import IntentLog, single_match
from bot.errors import InvalidOptions, PermanentProviderError, ProviderError
from bot.ports import Capabilities, Continuity, ModelSpec, RemoteState, RemoteStatus, RenderSpec, Tier

log = logging.getLogger(__name__)

NAME = "luma"
LABEL = "Luma"
DURATIONS = (5, 9)
SIZES = {"16:9": "1280x720", "9:16": "720x1280", "1:1": "960x960"}
HIGH_SIZES = {"16:9": "1920x1080", "9:16": "1080x1920", "1:1": "1440x1440"}
# USD per second at 720p from Luma's API prices (Nov 2026); configurable defaults, not the bill.
DEFAULT_PRICES = {"ray-2": 0.14, "ray-flash-2": 0.05}
MAX_PROMPT_CHARS = 2500
_REFUSAL = re.compile(r"moderation|not allowed|prohibited|safety", re.IGNORECASE)

ImageUrl = Callable[[Path], Awaitable[str]]


def make_client(*, api_key: str, base_url: str | None = None, timeout: float = 30.0) -> AsyncLumaAI:
    """An SDK client with its retries off: a retried create could start a second paid generation."""
    return AsyncLumaAI(auth_token=api_key, base_url=base_url, max_retries=0, timeout=timeout)


class LumaProvider:
    """A :class:`~bot.ports.VideoProvider` for Luma's Ray models."""

    name = NAME
    reconciliation = "exact"  # generations are listed with the request they were made from

    def __init__(
        self,
        client: AsyncLumaAI,
        *,
        model: str = "ray-2",
        prices: Mapping[str, float] | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        image_url: ImageUrl | None = None,
        poll_seconds: float = 4.0,
    ) -> None:
        if model not in DEFAULT_PRICES:
            raise ValueError(f"unknown Luma model {model!r}; known: {', '.join(DEFAULT_PRICES)}")
        self._client = client
        self._model = model
        self._prices = {**DEFAULT_PRICES, **(prices or {})}
        self._callback = (webhook_url, webhook_secret) if webhook_url and webhook_secret else None
        self._image_url = image_url
        self._poll_seconds = poll_seconds
        self._intents = IntentLog()

    def capabilities(self) -> Capabilities:
        continuity = {Continuity.EXTEND}
        if self._image_url is not None:
            continuity |= {Continuity.FIRST_FRAME, Continuity.LAST_FRAME}
        models = tuple(
            ModelSpec(
                name=name,
                durations=DURATIONS,
                sizes=dict(SIZES),
                price_per_second=self._prices[name],
                max_prompt_chars=MAX_PROMPT_CHARS,
                quality_sizes={"high": dict(HIGH_SIZES)},
                continuity=frozenset(continuity),
                tier=Tier.DRAFT if name == "ray-flash-2" else Tier.FINAL,
            )
            for name in DEFAULT_PRICES
        )
        return Capabilities(NAME, models, default_model=self._model, label="Luma Dream Machine")

    async def aclose(self) -> None:
        await self._client.close()

    async def submit(self, spec: RenderSpec) -> str:
        params = await self._params(spec)
        self._intents.mark(spec.idempotency_key)
        with _translated(faults.CREATE):
            generation = await self._client.generations.create(**params)
        if not isinstance(generation, Generation) or not generation.id:
            raise faults.unexpected_response(NAME, faults.CREATE, generation, label=LABEL)
        return generation.id

    async def status(self, remote_id: str) -> RemoteStatus:
        generation = await self._get(remote_id, "status")
        if generation.state == "queued":
            return RemoteStatus(RemoteState.QUEUED, poll_after=self._poll_seconds)
        if generation.state == "dreaming":
            return RemoteStatus(RemoteState.RUNNING, progress=50, poll_after=self._poll_seconds)
        if generation.state == "completed":
            if not (generation.assets and generation.assets.video):
                if generation.assets and generation.assets.image:
                    return RemoteStatus(RemoteState.FAILED, error="Luma returned an image, not a video")
                return RemoteStatus(RemoteState.FAILED, error="Luma completed without a video")
            return RemoteStatus(RemoteState.COMPLETED, progress=100)
        if generation.state == "failed":
            reason = generation.failure_reason or "the generation failed without a reason"
            refused = bool(_REFUSAL.search(reason))
            return RemoteStatus(RemoteState.FAILED, error=reason, refused=refused, charged=False)
        raise faults.unexpected_response(NAME, "status", generation.state, label=LABEL)

    async def download(self, remote_id: str, dest: Path) -> None:
        generation = await self._get(remote_id, "download")
        video = generation.assets.video if generation.assets else None
        if generation.state != "completed" or not video:
            raise PermanentProviderError(f"Luma generation {remote_id} has no video", provider=NAME)
        await stream_url_to_file(video, dest, provider=NAME, label=LABEL)

    async def find(self, spec: RenderSpec, *, since: datetime | None = None) -> str | None:
        """The generation an ambiguous create made: its echoed request matches, created after the intent."""
        wanted = await self._params(spec)
        earliest = self._intents.since(spec.idempotency_key, since)
        matches: list[str] = []
        offset, done = 0, False
        with _translated("find"):
            while not done:
                page = await self._client.generations.list(limit=50, offset=offset)
                for generation in page.generations:
                    created = generation.created_at.timestamp() if generation.created_at else 0.0
                    if created < earliest:
                        done = True
                        break
                    if generation.id and _same_request(generation, wanted):
                        matches.append(generation.id)
                offset += len(page.generations)
                done = done or not page.has_more or not page.generations
        return single_match(NAME, matches)

    async def cancel(self, remote_id: str) -> None:
        """``DELETE /generations/{id}``: Luma drops the generation (and stops it if it is still queued)."""
        with _translated("cancel"):
            await self._client.generations.delete(remote_id)

    # ------------------------------------------------------------------ helpers

    async def _params(self, spec: RenderSpec) -> dict[str, Any]:
        """The create's arguments for ``spec``; refuses what Luma cannot make before anything is spent."""
        model = self.capabilities().model(spec.model)
        if spec.seconds not in DURATIONS:
            raise InvalidOptions(f"Luma makes clips of 5 or 9 seconds, not {spec.seconds}.")
        if spec.size not in (SIZES.get(spec.aspect), HIGH_SIZES.get(spec.aspect)):
            raise InvalidOptions(f"Luma cannot make a {spec.aspect} clip at {spec.size}.")
        if (spec.first_frame or spec.last_frame) and self._image_url is None:
            raise InvalidOptions("Luma takes keyframe images only as URLs, and none can be published here.")
        prompt = spec.prompt or spec.brief.prompt
        if len(prompt) > model.max_prompt_chars:
            raise InvalidOptions(f"Luma takes prompts of at most {model.max_prompt_chars} characters.")
        params: dict[str, Any] = {
            "model": model.name,
            "prompt": prompt,
            "duration": f"{spec.seconds}s",
            "aspect_ratio": spec.aspect,
            "resolution": "1080p" if spec.size == HIGH_SIZES.get(spec.aspect) else "720p",
        }
        keyframes: dict[str, Any] = {}
        if spec.extend_remote_id:
            keyframes["frame0"] = {"type": "generation", "id": spec.extend_remote_id}
        elif spec.first_frame and self._image_url:
            keyframes["frame0"] = {"type": "image", "url": await self._image_url(spec.first_frame)}
        if spec.last_frame and self._image_url:
            keyframes["frame1"] = {"type": "image", "url": await self._image_url(spec.last_frame)}
        if keyframes:
            params["keyframes"] = keyframes
        if self._callback:
            base, secret = self._callback
            params["callback_url"] = signed_callback_url(base, secret, spec.idempotency_key or spec.render_id)
        return params

    async def _get(self, remote_id: str, action: str) -> Generation:
        with _translated(action):
            generation = await self._client.generations.get(remote_id)
        if not isinstance(generation, Generation):  # a proxy's HTML page parses as text
            raise faults.unexpected_response(NAME, action, generation, label=LABEL)
        return generation


def _same_request(generation: Generation, wanted: Mapping[str, Any]) -> bool:
    request = generation.request
    echoed = request.model_dump(exclude_none=True) if request is not None else {}
    return all(echoed.get(key) == value for key, value in wanted.items() if key != "keyframes")


class _translated:
    """Turn SDK errors into the core's provider errors (a context manager)."""

    def __init__(self, action: str) -> None:
        self.action = action

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is not None and (error := _error(exc, self.action)) is not None:
            raise error from exc


def _error(exc: BaseException, action: str) -> ProviderError | None:
    if isinstance(exc, lumaai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = str(body.get("detail") or exc.message)
        refused = exc.status_code == 400 and bool(_REFUSAL.search(detail))
        return faults.status_error(
            NAME, action, exc.status_code, detail, headers=exc.response.headers, refused=refused, label=LABEL
        )
    if isinstance(exc, lumaai.APITimeoutError):
        return faults.in_transit(NAME, action, "timed out", label=LABEL)
    if isinstance(exc, lumaai.APIConnectionError):
        if isinstance(exc.__cause__, httpx.ConnectError | ConnectionRefusedError):
            return faults.unreachable(NAME, repr(exc.__cause__), label=LABEL)
        return faults.in_transit(NAME, action, repr(exc.__cause__), label=LABEL)
    return None
