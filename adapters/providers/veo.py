"""Google Veo 3.1 through the official ``google-genai`` SDK.

Why Agent Platform (Vertex AI) and not a Gemini API key: google-genai 3.x
sends ``models.generate_videos`` only in Agent Platform mode
(``genai.Client(vertexai=True, …)``); in Gemini Developer API mode it raises
``ValueError`` before any request ("only supported in Gemini Enterprise Agent
Platform mode"). So :func:`make_client` always builds an Agent Platform client,
either in express mode (an API key that Agent Platform accepts — an AI Studio
key is not one) or with a project and location and Application Default
Credentials.

Where the clip comes from: Agent Platform returns the finished video inline
(base64 in the operation, so the completing poll and the download each carry
it) unless the request names an ``output_gcs_uri``; then it writes ``gs://…``
and :meth:`VeoProvider.download` streams that object to disk in chunks through
the Cloud Storage JSON API. Inline is the default because it needs no bucket;
its memory use is the clip size a few times over, which the SDK decides (an
8 s 1080p Veo clip is tens of MB, not hundreds). Configure a bucket when that
matters.

Retries: the SDK's own retries are off (one attempt) so that the worker's
back-off, which honours the provider's hints and spreads replicas, is the only
one; see :func:`make_client`.

At most one paid job: ``predictLongRunning`` takes no idempotency key, and an
operation's name is known only from the create's answer (google-genai offers no
way to list a model's operations), so a create that ends ambiguously (500/502/504,
a timeout, a lost connection, an unreadable answer) raises ``SubmissionUncertain``
and :meth:`VeoProvider.find` cannot tell: reconciliation is **uncertain**. Nor can
an operation be cancelled through the SDK: ``cancel`` leaves it to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx2
import pydantic
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import Credentials
from google.genai import Client, errors, types

from adapters.providers import faults
from bot.errors import (
    InvalidOptions,
    PermanentProviderError,
    ProviderError,
    ReconcileUnsupported,
    TransientProviderError,
)
from bot.ports import Capabilities, Continuity, ModelSpec, RemoteState, RemoteStatus, RenderSpec

log = logging.getLogger(__name__)

NAME = "veo"
DEFAULT_MODEL = "veo-3.1-generate-001"
DURATIONS = (4, 6, 8)
SIZES = {"16:9": "1280x720", "9:16": "720x1280"}
HIGH_SIZES = {"16:9": "1920x1080", "9:16": "1080x1920"}
# A cut's continuous shot starts from an image (``GenerateVideosSource.image``). Extension is not
# offered: Veo extends only a video it can read again (``gs://`` or its own output), which the
# default inline mode does not keep.
CONTINUITY = frozenset({Continuity.FIRST_FRAME})
MAX_PROMPT_CHARS = 3000  # Veo reads up to 1,024 tokens; 3,000 characters stays well inside.

# USD per second of video with audio: Veo 3.1 list prices (Nov 2026), configurable
# defaults for estimates, not the bill. The preview ids price like their GA models.
DEFAULT_PRICES: dict[str, float] = {
    "veo-3.1-generate-001": 0.40,
    "veo-3.1-fast-generate-001": 0.15,
    "veo-3.1-generate-preview": 0.40,
    "veo-3.1-fast-generate-preview": 0.15,
}

STORAGE_URL = "https://storage.googleapis.com"
_STORAGE_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
_SAFETY = re.compile(
    r"responsible ai|usage guidelines|safety|sensitive words|prohibited|violat", re.IGNORECASE
)
# Cannot connect at all: down, so another provider may take the render. A connection
# dropped mid-answer or a timeout is only a reason to try again later.
_UNREACHABLE = (aiohttp.ClientConnectorError, httpx2.ConnectError, ConnectionRefusedError)
_FLAKY = (TimeoutError, aiohttp.ClientConnectionError, httpx2.TransportError, ConnectionError)

TokenSource = Callable[[], Awaitable[str]]


def make_client(
    *,
    api_key: str | None = None,
    project: str | None = None,
    location: str = "us-central1",
    base_url: str | None = None,
    credentials: Credentials | None = None,
    timeout_ms: int = 120_000,
) -> Client:
    """An Agent Platform client for Veo: a project if ``project`` is set, else express mode.

    With a project, ``credentials`` default to Application Default Credentials.

    SDK retries are set to a single attempt. That also turns off the SDK's hidden
    retry of a refused connection (a 1–10 s sleep), which would hide an outage
    from the worker's failover.
    """
    options = types.HttpOptions(
        base_url=base_url,
        timeout=timeout_ms,
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    if project:
        return Client(
            vertexai=True, project=project, location=location, credentials=credentials, http_options=options
        )
    if api_key:
        return Client(vertexai=True, api_key=api_key, http_options=options)
    raise ValueError("Veo needs an Agent Platform project (ADC) or an express-mode API key")


class AdcToken:
    """Application Default Credentials as an async bearer-token source for Cloud Storage reads."""

    def __init__(self) -> None:
        self._credentials: Any = None

    async def __call__(self) -> str:
        import google.auth
        from google.auth.transport.requests import Request

        # google-auth is synchronous (file reads, a token request): keep it off the loop.
        if self._credentials is None:
            found = await asyncio.to_thread(google.auth.default, scopes=[_STORAGE_SCOPE])
            self._credentials = found[0]
        if not self._credentials.valid:
            await asyncio.to_thread(self._credentials.refresh, Request())
        return str(self._credentials.token)


class VeoProvider:
    """Veo 3.1 text-to-video. The remote id is the long-running operation's name."""

    name = NAME
    reconciliation = "uncertain"  # operations cannot be listed or found by key: see the module doc

    def __init__(
        self,
        client: Client,
        *,
        model: str = DEFAULT_MODEL,
        prices: Mapping[str, float] | None = None,
        person_generation: str | None = "allow_adult",
        generate_audio: bool = True,
        output_gcs_uri: str | None = None,
        gcs_token: TokenSource | None = None,
        storage_url: str = STORAGE_URL,
        chunk_size: int = 1 << 20,
    ) -> None:
        """Wrap ``client`` (see :func:`make_client`).

        Args:
            client: an Agent Platform ``genai.Client``; a Gemini Developer API client is refused.
            model: the default model; an id not in the table is offered with Veo 3.1's shape.
            prices: USD per second by model, overriding :data:`DEFAULT_PRICES`.
            person_generation: ``allow_adult`` (Google's default), ``dont_allow`` or ``None``.
            generate_audio: ask for a soundtrack; the default prices assume audio.
            output_gcs_uri: ``gs://bucket/prefix`` to have clips written there and streamed
                from there instead of returned inline.
            gcs_token: where to get a bearer token for reading ``output_gcs_uri``
                (default: Application Default Credentials).
            storage_url: the Cloud Storage JSON API root (a fake's URL in tests).
            chunk_size: bytes per write when saving a clip.
        """
        if not client.vertexai:
            raise ValueError(
                "google-genai 3.x generates video only in Agent Platform mode: "
                "build the client with genai.Client(vertexai=True, …) (see make_client)"
            )
        self._client = client
        self._finished: dict[str, types.GenerateVideosOperation] = {}
        self._model = model
        self._prices = {**DEFAULT_PRICES, **(prices or {})}
        self._person_generation = person_generation
        self._generate_audio = generate_audio
        self._output_gcs_uri = output_gcs_uri
        self._gcs_token = gcs_token or AdcToken()
        self._storage_url = storage_url.rstrip("/")
        self._chunk_size = chunk_size

    # ------------------------------------------------------------------ the port

    def capabilities(self) -> Capabilities:
        names = list(dict.fromkeys([*DEFAULT_PRICES, self._model]))
        models = tuple(
            ModelSpec(
                name=name,
                durations=DURATIONS,
                sizes=dict(SIZES),
                price_per_second=self._prices.get(name, DEFAULT_PRICES[DEFAULT_MODEL]),
                audio=self._generate_audio,
                max_prompt_chars=MAX_PROMPT_CHARS,
                quality_sizes={"high": dict(HIGH_SIZES)},
                continuity=CONTINUITY,
            )
            for name in names
        )
        return Capabilities(NAME, models, default_model=self._model, label="Google Veo")

    async def aclose(self) -> None:
        """Close the SDK client's connections (called when the app shuts down)."""
        await self._client.aio.aclose()

    async def submit(self, spec: RenderSpec) -> str:
        resolution = self._check(spec)
        brief = spec.brief
        config = types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=spec.seconds,
            aspect_ratio=spec.aspect,
            resolution=resolution,
            negative_prompt=brief.negative_prompt or None,
            seed=spec.seed,
            person_generation=self._person_generation,
            generate_audio=self._generate_audio,
            output_gcs_uri=self._output_gcs_uri,
        )
        source = types.GenerateVideosSource(prompt=spec.prompt or brief.prompt)
        if spec.first_frame is not None:
            # A continuous shot of a cut: Veo animates from the previous shot's last frame
            # (sent inline as ``bytesBase64Encoded``; the cutter writes PNG frames).
            frame = await asyncio.to_thread(spec.first_frame.read_bytes)
            source.image = types.Image(image_bytes=frame, mime_type="image/png")
        with _translated(faults.CREATE):
            operation = await self._client.aio.models.generate_videos(
                model=spec.model, source=source, config=config
            )
        if not operation.name:  # accepted, but we cannot follow it: a job may exist
            raise faults.unexpected_response(NAME, faults.CREATE, "no operation name", label="Veo")
        return operation.name

    async def status(self, remote_id: str) -> RemoteStatus:
        operation = await self._operation(remote_id)
        status = _to_status(operation)
        if status.state == RemoteState.COMPLETED:
            # Inline mode carries the clip in this very response: keep it for download() rather
            # than fetching it over the wire a second time. One entry per finished job, taken once.
            self._finished[remote_id] = operation
        return status

    async def download(self, remote_id: str, dest: Path) -> None:
        operation = self._finished.pop(remote_id, None) or await self._operation(remote_id)
        state = _to_status(operation)
        if state.state != RemoteState.COMPLETED:
            raise PermanentProviderError(
                f"Veo has no finished clip for this job ({state.error or state.state})",
                provider=NAME,
            )
        video = _first_video(operation)
        assert video is not None  # COMPLETED means there is one
        if video.video_bytes:
            # The SDK has already decoded the whole clip from the operation's JSON;
            # all that is left to bound is the write, which goes to a thread in chunks.
            await asyncio.to_thread(_write_atomically, dest, video.video_bytes, self._chunk_size)
        elif video.uri and video.uri.startswith("gs://"):
            await self._stream_object(video.uri, dest)
        else:
            raise PermanentProviderError(
                f"Veo returned a clip at an unsupported place: {video.uri}", provider=NAME
            )

    # ------------------------------------------------------------------ helpers

    async def find(self, spec: RenderSpec, *, since: datetime | None = None) -> str | None:
        """Veo operations cannot be listed or found by key: an uncertain submit stays uncertain."""
        self._check(spec)
        raise ReconcileUnsupported(
            "Veo operations cannot be listed or looked up by an idempotency key", provider=NAME
        )

    async def cancel(self, remote_id: str) -> None:
        """google-genai has no cancel for Veo operations: the job is left to finish, never collected."""
        log.info("%s job %s is no longer wanted; it is left to finish", NAME, remote_id)

    def _check(self, spec: RenderSpec) -> str:
        """Refuse what Veo would refuse, before anything is spent; return the resolution."""
        model = self.capabilities().model(spec.model)
        if spec.seconds not in model.durations:
            raise InvalidOptions(f"Veo makes clips of 4, 6 or 8 seconds, not {spec.seconds}.")
        if spec.aspect not in model.sizes:
            raise InvalidOptions(f"Veo makes 16:9 or 9:16 clips, not {spec.aspect}.")
        if spec.size not in (SIZES[spec.aspect], HIGH_SIZES[spec.aspect]):
            raise InvalidOptions(f"Veo makes {spec.aspect} clips at 720p or 1080p, not {spec.size}.")
        if len(spec.brief.prompt) > model.max_prompt_chars:
            raise PermanentProviderError(
                f"the prompt is {len(spec.brief.prompt)} characters; Veo takes at most "
                f"{model.max_prompt_chars}",
                provider=NAME,
            )
        return "1080p" if spec.size == HIGH_SIZES[spec.aspect] else "720p"

    async def _operation(self, remote_id: str) -> types.GenerateVideosOperation:
        with _translated("status"):
            return await self._client.aio.operations.get(
                types.GenerateVideosOperation.model_validate({"name": remote_id})
            )

    async def _stream_object(self, uri: str, dest: Path) -> None:
        bucket, _, name = uri.removeprefix("gs://").partition("/")
        url = f"{self._storage_url}/storage/v1/b/{bucket}/o/{quote(name, safe='')}"
        try:
            token = await self._gcs_token()
        except auth_exceptions.TransportError as exc:
            raise TransientProviderError(
                f"could not get a token to read {uri}: {exc}", provider=NAME
            ) from exc
        except auth_exceptions.GoogleAuthError as exc:
            raise PermanentProviderError(f"no credentials to read {uri}: {exc}", provider=NAME) from exc
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(
                    url, params={"alt": "media"}, headers={"Authorization": f"Bearer {token}"}
                ) as response,
            ):
                if response.status != 200:
                    raise _storage_error(response.status, uri, await response.text())
                await _save_stream(response, dest, self._chunk_size)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientProviderError(f"downloading {uri} failed: {exc!r}", provider=NAME) from exc


# ---------------------------------------------------------------------- wire → domain


def _first_video(operation: types.GenerateVideosOperation) -> types.Video | None:
    response = operation.response
    for generated in (response.generated_videos or []) if response else []:
        if generated.video and (generated.video.video_bytes or generated.video.uri):
            return generated.video
    return None


def _to_status(operation: types.GenerateVideosOperation) -> RemoteStatus:
    if not operation.done:
        return RemoteStatus(RemoteState.RUNNING)
    # Google bills Veo per second of video delivered: a failed or filtered job costs nothing.
    if operation.error:
        message = str(operation.error.get("message") or operation.error)
        if _SAFETY.search(message):
            return RemoteStatus(RemoteState.FAILED, error=message, refused=True, charged=False)
        return RemoteStatus(
            RemoteState.FAILED, error=f"Veo could not make the video: {message}", charged=False
        )
    if _first_video(operation) is not None:
        return RemoteStatus(RemoteState.COMPLETED, progress=100)
    response = operation.response
    if response and (response.rai_media_filtered_count or response.rai_media_filtered_reasons):
        reasons = "; ".join(response.rai_media_filtered_reasons or []) or "no reason given"
        return RemoteStatus(
            RemoteState.FAILED,
            refused=True,
            charged=False,
            error=f"its safety filters blocked the generated video: {reasons}",
        )
    return RemoteStatus(RemoteState.FAILED, error="Veo finished without a video", charged=False)


@contextlib.contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turn SDK and transport errors into the core's provider errors."""
    try:
        yield
    except errors.APIError as exc:
        raise _api_error(exc, action) from exc
    except _UNREACHABLE as exc:
        raise faults.unreachable(NAME, repr(exc), label="Veo") from exc
    except _FLAKY as exc:
        raise faults.in_transit(NAME, action, repr(exc), label="Veo") from exc
    except (ValueError, pydantic.ValidationError) as exc:  # a body that is not Google's JSON
        raise faults.unexpected_response(NAME, action, exc, label="Veo") from exc


def _api_error(exc: errors.APIError, action: str) -> ProviderError:
    code, status = int(exc.code or 0), str(exc.status or "")
    message = f"{code} {status}: {exc.message or exc.details}"
    if status == "RESOURCE_EXHAUSTED":
        code = 429
    elif status == "UNAVAILABLE":
        code = 503
    # Google's own words on a refusal; the worker adds "veo refused the prompt:" in front.
    refused = code == 400 and bool(_SAFETY.search(exc.message or ""))
    error = faults.status_error(
        NAME, action, code, str(exc.message) if refused else message, refused=refused, label="Veo"
    )
    hint = _retry_after(exc)
    if isinstance(error, TransientProviderError) and hint is not None:
        error.retry_after = hint
    return error


def _retry_after(exc: errors.APIError) -> float | None:
    """A Retry-After header, else Google's usual google.rpc.RetryInfo detail (``"7s"``)."""
    headers = getattr(exc.response, "headers", None)
    hints = [str(headers.get("retry-after") or "")] if headers is not None else []
    body = exc.details if isinstance(exc.details, dict) else {}
    for detail in body.get("error", body).get("details") or []:
        if isinstance(detail, dict) and str(detail.get("retryDelay", "")).endswith("s"):
            hints.append(str(detail["retryDelay"])[:-1])
    for hint in hints:
        with contextlib.suppress(ValueError):
            return max(float(hint), 0.0)
    return None


def _storage_error(status: int, uri: str, body: str) -> ProviderError:
    if status == 404:
        return PermanentProviderError(f"the Veo clip {uri} is gone (expired or deleted)", provider=NAME)
    if status == 429 or status >= 500:
        return TransientProviderError(f"Cloud Storage answered {status} for {uri}", provider=NAME)
    return PermanentProviderError(f"Cloud Storage refused {uri}: {status} {body[:200]}", provider=NAME)


# ---------------------------------------------------------------------- files


async def _save_stream(response: aiohttp.ClientResponse, dest: Path, chunk_size: int) -> None:
    """Write the body to ``dest`` chunk by chunk (writes in a thread); rename when complete."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = await asyncio.to_thread(part.open, "wb")
        try:
            async for chunk in response.content.iter_chunked(chunk_size):
                await asyncio.to_thread(handle.write, chunk)
        finally:
            await asyncio.to_thread(handle.close)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, dest)


def _write_atomically(dest: Path, data: bytes, chunk_size: int) -> None:
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    view = memoryview(data)
    with part.open("wb") as handle:
        for start in range(0, len(view), chunk_size):
            handle.write(view[start : start + chunk_size])
    os.replace(part, dest)
