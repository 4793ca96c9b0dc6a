"""Sora 2 through the OpenAI Videos API shape, driven by the official ``openai`` SDK.

OpenAI's own public Videos API (and its sora-2 / sora-2-pro models) was retired
on 2026-09-24. This adapter does not rely on api.openai.com: it serves Azure
OpenAI deployments and OpenAI-compatible gateways that kept the ``/v1/videos``
endpoints, reached by pointing the client at them (``OPENAI_BASE_URL``, or an
``AsyncAzureOpenAI`` client, which is an ``AsyncOpenAI``).

Build the client with ``max_retries=0``: its own retries of ``POST /v1/videos``
could start (and bill) a second job; the worker retries instead, with leases
and the stored remote id. Each create carries the render's ``Idempotency-Key``
(honoured by gateways that support it); a create that ends ambiguously (5xx,
timeout, lost connection, an unreadable 200) raises ``SubmissionUncertain``, and
:meth:`OpenAIVideosProvider.find` looks the job up in ``GET /v1/videos``.

Prices (USD per second of output; configurable, last public list prices as
defaults): sora-2 $0.10 at 720p; sora-2-pro $0.30 at 720p and $0.50 at
1792x1024 / 1024x1792. ``ModelSpec`` carries one price per model, so
sora-2-pro declares its 720p price and offers the larger sizes as
``quality_sizes["high"]``; :meth:`OpenAIVideosProvider.price_for` prices the
actual size, and :meth:`~OpenAIVideosProvider.status` reports that cost when a
clip completes.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import httpx2
import openai
from openai import AsyncOpenAI
from openai.types import Video, VideoSeconds, VideoSize
from PIL import Image

from adapters.providers import faults
from adapters.providers.reconcile import IntentLog, single_match
from bot.errors import (
    CapacityError,
    InvalidOptions,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from bot.ports import Capabilities, Continuity, ModelSpec, RemoteState, RemoteStatus, RenderSpec, Tier

log = logging.getLogger(__name__)

NAME = "openai"
LABEL = "the video API"
HIGH = "high"
DEFAULT_PRICES: dict[str, float] = {"sora-2": 0.10, "sora-2-pro": 0.30, f"sora-2-pro@{HIGH}": 0.50}
# A cut's continuous shot starts from an image (``input_reference``) or extends a video.
CONTINUITY = frozenset({Continuity.FIRST_FRAME, Continuity.EXTEND})
MAX_PROMPT_CHARS = 4000  # clipdesk's cap: gateways differ, and longer prompts gain little
DOWNLOAD_CHUNK = 1 << 20

_STANDARD_SIZES = {"16:9": "1280x720", "9:16": "720x1280"}
_HIGH_SIZES = {"16:9": "1792x1024", "9:16": "1024x1792"}
_SECONDS: dict[int, VideoSeconds] = {4: "4", 8: "8", 12: "12"}
_SIZES: dict[str, VideoSize] = {
    "1280x720": "1280x720",
    "720x1280": "720x1280",
    "1792x1024": "1792x1024",
    "1024x1792": "1024x1792",
}
_STATES = {
    "queued": RemoteState.QUEUED,
    "in_progress": RemoteState.RUNNING,
    "completed": RemoteState.COMPLETED,
    "failed": RemoteState.FAILED,
}
_POLICY_CODES = {"moderation_blocked", "content_policy_violation", "content_filter", "safety_blocked"}
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def is_policy_code(code: str | None) -> bool:
    """Whether an error code means the provider refused the content (never retry, tell the user)."""
    if not code:
        return False
    lowered = code.lower()
    return lowered in _POLICY_CODES or "moderation" in lowered or "policy" in lowered


def reference_image(path: Path, size: str) -> bytes:
    """The first-frame image as PNG bytes at exactly ``size`` (the API refuses any other size)."""
    width, height = (int(n) for n in size.split("x"))
    with Image.open(path) as image:
        fitted = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    fitted.save(out, format="PNG")
    return out.getvalue()


def compose_prompt(prompt: str, negative_prompt: str, limit: int) -> str:
    """Fold the negative prompt into the text, since the Videos API has no ``negative_prompt``.

    The positive prompt wins the space: the "Avoid:" tail is shortened first.
    """
    prompt = prompt.strip()
    negative = negative_prompt.strip().rstrip(".")
    tail = f"\n\nAvoid: {negative}." if negative else ""
    if len(prompt) + len(tail) <= limit:
        return prompt + tail
    room = limit - len(prompt)
    if tail and room >= len("\n\nAvoid: ") + 20:
        return prompt + tail[: room - 1].rstrip(" ,") + "…"
    return prompt if len(prompt) <= limit else prompt[: limit - 1].rstrip() + "…"


def map_error(
    exc: openai.OpenAIError, *, action: str = "status", missing: str | None = None
) -> ProviderError:
    """Turn an SDK error into the core's typed error, keeping the provider's own words.

    Args:
        exc: what the SDK raised.
        action: ``"create"`` makes an answer that may hide a new job (5xx, timeout) uncertain.
        missing: the message for a 404 (e.g. "result expired") on status and download.
    """
    if isinstance(exc, openai.APITimeoutError):
        return faults.in_transit(NAME, action, "timed out", label=LABEL)
    if isinstance(exc, openai.APIConnectionError):
        if isinstance(exc.__cause__, httpx2.ConnectError | ConnectionRefusedError):
            return faults.unreachable(NAME, exc.message, label=LABEL)
        return faults.in_transit(NAME, action, exc.__cause__ or exc.message, label=LABEL)
    if not isinstance(exc, openai.APIStatusError):
        return faults.unexpected_response(NAME, action, exc, label=LABEL)
    status, detail, headers = exc.status_code, _detail(exc), exc.response.headers
    if status == 429 and exc.code == "insufficient_quota":
        return CapacityError(
            f"out of quota: {detail}", provider=NAME, retry_after=faults.retry_after(headers)
        )
    if status == 404 and missing and action != faults.CREATE:
        return PermanentProviderError(missing, provider=NAME)
    return faults.status_error(
        NAME, action, status, detail, headers=headers, refused=is_policy_code(exc.code), label=LABEL
    )


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return str(body["message"])
    return exc.message


def _poll_after(headers: httpx2.Headers) -> float | None:
    value = headers.get("openai-poll-after-ms")
    try:
        return max(int(value) / 1000, 0.0) if value is not None else None
    except ValueError:
        return None


class OpenAIVideosProvider:
    """A :class:`~bot.ports.VideoProvider` for Sora 2 on Azure OpenAI or an OpenAI-compatible gateway."""

    name = NAME

    def __init__(
        self,
        client: AsyncOpenAI,
        default_model: str = "sora-2",
        prices: Mapping[str, float] | None = None,
        label: str = "Azure/gateway",
        *,
        deployments: Mapping[str, str] | None = None,
        idempotent_gateway: bool = False,
    ) -> None:
        """Wrap a configured client.

        Args:
            client: an ``AsyncOpenAI`` (or ``AsyncAzureOpenAI``) whose base URL is the gateway.
            default_model: the model used when a request names none.
            prices: USD per second by model, overriding :data:`DEFAULT_PRICES`;
                ``"sora-2-pro@high"`` prices the 1792x1024 / 1024x1792 sizes.
            label: shown next to the provider name in choices and estimates.
            deployments: the ``model`` value to send per clipdesk model, e.g. Azure deployment names.
            idempotent_gateway: the gateway honours ``Idempotency-Key`` on create, so an uncertain
                create may be sent again with the same key (declared as ``idempotent_submit``).
        """
        self._client = client
        self._prices = {**DEFAULT_PRICES, **(prices or {})}
        self._deployments = dict(deployments or {})
        self._intents = IntentLog()
        self._caps = Capabilities(
            provider=NAME,
            models=(
                ModelSpec(
                    "sora-2",
                    (4, 8, 12),
                    dict(_STANDARD_SIZES),
                    self._prices["sora-2"],
                    audio=True,
                    max_prompt_chars=MAX_PROMPT_CHARS,
                    continuity=CONTINUITY,
                    tier=Tier.DRAFT,
                ),
                ModelSpec(
                    "sora-2-pro",
                    (4, 8, 12),
                    dict(_STANDARD_SIZES),
                    self._prices["sora-2-pro"],
                    audio=True,
                    max_prompt_chars=MAX_PROMPT_CHARS,
                    quality_sizes={HIGH: dict(_HIGH_SIZES)},
                    quality_prices={HIGH: self._prices[f"sora-2-pro@{HIGH}"]},
                    continuity=CONTINUITY,
                ),
            ),
            default_model=default_model,
            label=label,
            idempotent_submit=idempotent_gateway,
        )
        self._caps.model(default_model)  # fail at start-up, not at the first render
        if client.base_url.host == "api.openai.com":
            log.warning(
                "OpenAI retired its public Videos API on 2026-09-24; set OPENAI_BASE_URL "
                "to an Azure OpenAI or gateway endpoint"
            )

    def capabilities(self) -> Capabilities:
        return self._caps

    def price_for(self, model: str, size: str) -> float:
        """USD per second of ``model`` at ``size`` (the high-resolution sizes cost more)."""
        if size in _HIGH_SIZES.values() and f"{model}@{HIGH}" in self._prices:
            return self._prices[f"{model}@{HIGH}"]
        return self._prices[model]

    async def aclose(self) -> None:
        """Close the SDK client's connections (called when the app shuts down)."""
        await self._client.close()

    def _request(self, spec: RenderSpec) -> tuple[str, str, VideoSeconds, VideoSize]:
        """What ``POST /v1/videos`` sends for ``spec`` (model, prompt, seconds, size); refuses bad options."""
        model = self._caps.model(spec.model)
        seconds = _SECONDS.get(spec.seconds)
        if seconds is None or spec.seconds not in model.durations:
            raise InvalidOptions(f"{model.name} makes clips of 4, 8 or 12 seconds, not {spec.seconds}.")
        allowed = set(model.sizes.values()) | {s for q in model.quality_sizes.values() for s in q.values()}
        size = _SIZES.get(spec.size)
        if size is None or spec.size not in allowed:
            raise InvalidOptions(
                f"{model.name} cannot render at {spec.size}; it makes {', '.join(sorted(allowed))}."
            )
        text = spec.prompt or spec.brief.prompt
        prompt = compose_prompt(text, spec.brief.negative_prompt, model.max_prompt_chars)
        return self._deployments.get(model.name, model.name), prompt, seconds, size

    async def submit(self, spec: RenderSpec) -> str:
        """Validate against the capabilities, then ``POST /v1/videos`` (multipart); return the video id.

        The render's idempotency key goes out as ``Idempotency-Key``: a gateway that honours it
        answers a repeated create with the first job instead of a second one.
        """
        model, prompt, seconds, size = self._request(spec)
        headers = {"Idempotency-Key": spec.idempotency_key} if spec.idempotency_key else None
        self._intents.mark(spec.idempotency_key)
        try:
            if spec.extend_remote_id:
                # A continuous shot of a cut: the API continues the earlier video natively.
                video = await self._client.videos.extend(
                    prompt=prompt, seconds=seconds, video={"id": spec.extend_remote_id}, extra_headers=headers
                )
            elif spec.first_frame is not None:
                # A continuous shot starting from the previous shot's last frame (the same size).
                frame = await asyncio.to_thread(reference_image, spec.first_frame, spec.size)
                video = await self._client.videos.create(
                    prompt=prompt,
                    model=model,
                    seconds=seconds,
                    size=size,
                    input_reference=("first_frame.png", frame, "image/png"),
                    extra_headers=headers,
                )
            else:
                video = await self._client.videos.create(
                    prompt=prompt, model=model, seconds=seconds, size=size, extra_headers=headers
                )
        except openai.OpenAIError as exc:
            raise map_error(exc, action=faults.CREATE) from exc
        if not isinstance(video, Video):  # a proxy's HTML page parses as text, not as a Video
            raise faults.unexpected_response(NAME, faults.CREATE, video, label=LABEL)
        return video.id

    async def status(self, remote_id: str) -> RemoteStatus:
        """``GET /v1/videos/{id}``, with the server's ``openai-poll-after-ms`` hint."""
        try:
            raw = await self._client.videos.with_raw_response.retrieve(remote_id)
            video = raw.parse()
        except openai.OpenAIError as exc:
            raise map_error(exc, missing=f"video {remote_id} no longer exists") from exc
        if not isinstance(video, Video):
            raise faults.unexpected_response(NAME, "status", video, label=LABEL)
        state = _STATES.get(video.status, RemoteState.RUNNING)
        poll_after = _poll_after(raw.headers)
        if state == RemoteState.COMPLETED:
            return RemoteStatus(state, 100, poll_after, cost=self._cost(video))
        if state == RemoteState.FAILED:
            error = video.error
            reason = error.message if error and error.message else "the video failed without a reason"
            refused = is_policy_code(error.code if error else None)
            return RemoteStatus(
                state, video.progress, poll_after, error=reason, refused=refused, charged=False
            )
        return RemoteStatus(state, max(0, min(int(video.progress or 0), 99)), poll_after)

    async def download(self, remote_id: str, dest: Path) -> None:
        """Stream ``GET /v1/videos/{id}/content?variant=video`` to ``dest`` one chunk at a time.

        The bytes land in ``dest.part`` first, so a half-written file never looks finished.
        """
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        try:
            async with self._client.videos.with_streaming_response.download_content(
                remote_id, variant="video"
            ) as response:
                await response.stream_to_file(part, chunk_size=DOWNLOAD_CHUNK)
        except openai.OpenAIError as exc:
            part.unlink(missing_ok=True)
            raise map_error(exc, missing="result expired") from exc
        except httpx2.TransportError as exc:
            part.unlink(missing_ok=True)
            raise TransientProviderError(f"the download broke off: {exc}", provider=NAME) from exc
        if part.stat().st_size == 0:
            part.unlink(missing_ok=True)
            raise PermanentProviderError("the video API returned an empty clip", provider=NAME)
        os.replace(part, dest)

    async def find(self, spec: RenderSpec, *, since: datetime | None = None) -> str | None:
        """The job an ambiguous create made for ``spec``, looked up with ``GET /v1/videos``.

        ``Video`` objects echo model, prompt, seconds, size and ``created_at``; a job is ours
        when all of them match what :meth:`submit` sends and it was created after the intent
        (see :mod:`adapters.providers.reconcile`). Several matches raise ``ReconcileUnsupported``.
        """
        model, prompt, seconds, size = self._request(spec)
        earliest = self._intents.since(spec.idempotency_key, since)
        matches: list[str] = []
        try:
            async for video in self._client.videos.list(order="desc", limit=100):
                if video.created_at < earliest:
                    break  # newest first: the rest are older still
                if _SNAPSHOT.sub("", str(video.model)) in (model, spec.model) and (
                    video.prompt == prompt and video.seconds == seconds and video.size == size
                ):
                    matches.append(video.id)
        except openai.OpenAIError as exc:
            raise map_error(exc, action="find") from exc
        except (TypeError, ValueError, AttributeError) as exc:  # a list page that is not a list page
            raise faults.unexpected_response(NAME, "find", exc, label=LABEL) from exc
        return single_match(NAME, matches)

    async def cancel(self, remote_id: str) -> None:
        """The Videos API has no cancel (``DELETE`` only removes finished videos): left to finish."""
        log.info("%s job %s is no longer wanted; the API cannot stop it", NAME, remote_id)

    async def remix(self, remote_id: str, prompt: str) -> str:
        """Start a remix of a completed video with a new prompt; return the new video's id."""
        try:
            video = await self._client.videos.remix(remote_id, prompt=prompt[:MAX_PROMPT_CHARS])
        except openai.OpenAIError as exc:
            raise map_error(exc, missing=f"video {remote_id} no longer exists") from exc
        return video.id

    def _cost(self, video: Video) -> float | None:
        model = _SNAPSHOT.sub("", str(video.model))
        model = next((name for name, sent in self._deployments.items() if sent == model), model)
        try:
            return round(self.price_for(model, str(video.size)) * float(video.seconds), 4)
        except (KeyError, ValueError):
            return None  # a gateway model we have no price for: the worker keeps its estimate
