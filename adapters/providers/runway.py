"""Runway through the official ``runwayml`` SDK: its gen4.5 and the Veo and Kling models it hosts.

Runway bills in credits; the SDK reports each task's estimated and final
credits, so a finished render carries its real cost (credits x
``usd_per_credit``) and the price table below is only for estimates before
submitting.

Retries: construct ``AsyncRunwayML(max_retries=0)`` (see :func:`make_client`).
The SDK would otherwise retry 429/5xx itself, on ``text_to_video`` too, where a
5xx cannot tell whether a task (and a charge) was created; the worker's
back-off, which honours ``Retry-After`` and spreads replicas, is the one retry
loop.

At most one paid task: each create carries the render's ``Idempotency-Key``
header. Runway documents no idempotency for its API and offers no way to list
tasks (only ``GET``/``DELETE /v1/tasks/{id}``), so a create that ends ambiguously
(500/502/504, a timeout, a connection lost after sending, an unreadable 200)
raises ``SubmissionUncertain`` and :meth:`RunwayProvider.find` cannot tell:
reconciliation is **uncertain** (``ReconcileUnsupported``; ``idempotent_submit``
is false). ``cancel`` is ``DELETE /v1/tasks/{id}``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import runwayml
from runwayml import AsyncRunwayML
from runwayml.types.task_retrieve_response import (
    Cancelled,
    Failed,
    Pending,
    Running,
    Succeeded,
    TaskRetrieveResponse,
    Throttled,
)

from adapters.providers import faults
from adapters.providers.downloads import stream_url_to_file
from bot.errors import (
    InvalidOptions,
    PermanentProviderError,
    ProviderError,
    ReconcileUnsupported,
)
from bot.ports import Capabilities, Continuity, ModelSpec, RemoteState, RemoteStatus, RenderSpec

log = logging.getLogger(__name__)

NAME = "runway"
DEFAULT_MODEL = "gen4.5"
USD_PER_CREDIT = 0.01
MAX_PROMPT_UNITS = 1000  # promptText limit, in UTF-16 code units
_MODERATION = re.compile(r"moderation|safety|content policy", re.IGNORECASE)


@dataclass(frozen=True)
class RunwayModel:
    """What one Runway model accepts (from runwayml's ``text_to_video_create_params``)."""

    name: str
    durations: tuple[int, ...]
    sizes: dict[str, str]
    high_sizes: dict[str, str] = field(default_factory=dict)
    usd_per_second: float = 0.0
    audio: bool = False
    negative_prompt: bool = False
    seed: bool = True
    # image_to_video takes a first frame with the same ratios; Kling's ignores ``ratio`` (it
    # follows the image), so it is left out rather than special-cased.
    first_frame: bool = True


# usd_per_second: configurable defaults from Runway's credit prices (Nov 2026) at $0.01 a
# credit — gen4.5 12 credits/s, veo3.1 40/s and veo3.1_fast 15/s with audio. The Kling
# figure (7 credits/s) is an unverified placeholder: set CLIPDESK_PRICES from your plan.
MODELS: dict[str, RunwayModel] = {
    m.name: m
    for m in (
        RunwayModel(
            "gen4.5", tuple(range(2, 11)), {"16:9": "1280x720", "9:16": "720x1280"}, usd_per_second=0.12
        ),
        RunwayModel(
            "veo3.1",
            (4, 6, 8),
            {"16:9": "1280x720", "9:16": "720x1280"},
            {"16:9": "1920x1080", "9:16": "1080x1920"},
            0.40,
            audio=True,
            negative_prompt=True,
        ),
        RunwayModel(
            "veo3.1_fast",
            (4, 6, 8),
            {"16:9": "1280x720", "9:16": "720x1280"},
            {"16:9": "1920x1080", "9:16": "1080x1920"},
            0.15,
            audio=True,
            negative_prompt=True,
        ),
        RunwayModel(
            "kling2.5_turbo_pro",
            (5, 10),
            {"16:9": "1280x720", "9:16": "720x1280", "1:1": "720x720"},
            {"16:9": "1920x1080", "9:16": "1080x1920", "1:1": "1440x1440"},
            0.07,
            seed=False,
            first_frame=False,
        ),
    )
}


def make_client(*, api_key: str, base_url: str | None = None, timeout: float = 30.0) -> AsyncRunwayML:
    """An SDK client with its retries off (the worker retries; see the module docstring).

    ``timeout`` bounds each HTTP operation (connect, each read), so a hung call raises.
    """
    return AsyncRunwayML(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)


class RunwayProvider:
    """Runway text-to-video. The remote id is Runway's task id."""

    name = NAME
    reconciliation = "uncertain"  # no task listing and no documented idempotency: see the module doc

    def __init__(
        self,
        client: AsyncRunwayML,
        *,
        model: str = DEFAULT_MODEL,
        prices: Mapping[str, float] | None = None,
        usd_per_credit: float = USD_PER_CREDIT,
        poll_seconds: float = 5.0,
        throttled_poll_seconds: float = 20.0,
        chunk_size: int = 1 << 20,
    ) -> None:
        """Wrap ``client`` (see :func:`make_client`).

        Args:
            client: the SDK client; only its base URL differs between production and tests.
            model: the default model, one of :data:`MODELS`.
            prices: USD per second by model, overriding the defaults in :data:`MODELS`.
            usd_per_credit: what a Runway credit costs you, to price finished tasks.
            poll_seconds: the polling hint while a task is queued or running (Runway asks
                for no more than one poll every 5 s).
            throttled_poll_seconds: the hint while Runway holds a task back (THROTTLED).
            chunk_size: bytes per write when saving a clip.
        """
        if model not in MODELS:
            raise ValueError(f"unknown Runway model {model!r}; known: {', '.join(MODELS)}")
        self._client = client
        self._model = model
        self._prices = {name: m.usd_per_second for name, m in MODELS.items()} | dict(prices or {})
        self._usd_per_credit = usd_per_credit
        self._poll_seconds = poll_seconds
        self._throttled_poll_seconds = throttled_poll_seconds
        self._chunk_size = chunk_size

    # ------------------------------------------------------------------ the port

    def capabilities(self) -> Capabilities:
        models = tuple(
            ModelSpec(
                name=m.name,
                durations=m.durations,
                sizes=dict(m.sizes),
                price_per_second=self._prices[m.name],
                audio=m.audio,
                max_prompt_chars=MAX_PROMPT_UNITS,
                quality_sizes={"high": dict(m.high_sizes)} if m.high_sizes else {},
                continuity=frozenset({Continuity.FIRST_FRAME}) if m.first_frame else frozenset(),
            )
            for m in MODELS.values()
        )
        return Capabilities(NAME, models, default_model=self._model, label="Runway")

    async def aclose(self) -> None:
        """Close the SDK client's connections (called when the app shuts down)."""
        await self._client.close()

    async def submit(self, spec: RenderSpec) -> str:
        model = self._check(spec)
        params: dict[str, Any] = {
            "model": model.name,
            "prompt_text": spec.prompt or spec.brief.prompt,
            "ratio": spec.size.replace("x", ":"),
            "duration": spec.seconds,
        }
        if spec.seed is not None and model.seed:
            params["seed"] = spec.seed
        if model.audio:
            params["audio"] = True
        if model.negative_prompt and spec.brief.negative_prompt:
            params["negative_prompt"] = spec.brief.negative_prompt
        if spec.idempotency_key:
            params["extra_headers"] = {"Idempotency-Key": spec.idempotency_key}
        with _translated(faults.CREATE):
            # The SDK overloads create() per model with Literal types; the table above
            # already holds what each model accepts, so the call goes through untyped.
            if spec.first_frame is not None and model.first_frame:
                # A continuous shot of a cut: image_to_video starting from the previous shot's
                # last frame, sent inline as a data URI (Runway takes up to 5 MB that way).
                uri = await asyncio.to_thread(_data_uri, spec.first_frame)
                params["prompt_image"] = [{"uri": uri, "position": "first"}]
                raw = await self._client.image_to_video.with_raw_response.create(**params)
            else:
                raw = await self._client.text_to_video.with_raw_response.create(**params)
        task = await _parsed(raw, faults.CREATE)
        task_id = getattr(task, "id", None)
        if not isinstance(task_id, str):  # a proxy's HTML page parses as text, not as a task
            raise faults.unexpected_response(NAME, faults.CREATE, task, label="Runway")
        return task_id

    async def status(self, remote_id: str) -> RemoteStatus:
        task = await self._task(remote_id)
        if isinstance(task, Pending):
            return RemoteStatus(RemoteState.QUEUED, poll_after=self._poll_seconds)
        if isinstance(task, Throttled):
            # Runway is holding the task until the organisation has capacity: keep
            # polling, gently; it is neither an error nor a reason to fail over.
            return RemoteStatus(RemoteState.QUEUED, poll_after=self._throttled_poll_seconds)
        if isinstance(task, Running):
            percent = min(max(round(task.progress * 100), 0), 99)
            return RemoteStatus(RemoteState.RUNNING, progress=percent, poll_after=self._poll_seconds)
        if isinstance(task, Succeeded):
            cost = self._usd(task.cost.credits)
            if not task.output:
                return RemoteStatus(
                    RemoteState.FAILED, error="Runway finished without an output", charged=cost > 0, cost=cost
                )
            return RemoteStatus(RemoteState.COMPLETED, progress=100, cost=cost)
        if isinstance(task, Failed):
            code = task.failure_code or ""
            return RemoteStatus(
                RemoteState.FAILED,
                error=_failure_message(code, task.failure),
                refused=code.startswith("SAFETY."),
                charged=task.cost.credits > 0,
                cost=self._usd(task.cost.credits),
            )
        if isinstance(task, Cancelled):
            return RemoteStatus(
                RemoteState.FAILED,
                error="the Runway task was cancelled",
                charged=task.cost.credits > 0,
                cost=self._usd(task.cost.credits),
            )
        raise faults.unexpected_response(NAME, "status", task, label="Runway")

    async def download(self, remote_id: str, dest: Path) -> None:
        # Output URLs expire within 24-48 h, so fetch the task again for fresh ones.
        task = await self._task(remote_id)
        if not isinstance(task, Succeeded) or not task.output:
            raise PermanentProviderError(f"Runway task {remote_id} has no output to download", provider=NAME)
        await stream_url_to_file(
            task.output[0], dest, provider=NAME, label="Runway", chunk_size=self._chunk_size
        )

    # ------------------------------------------------------------------ helpers

    async def find(self, spec: RenderSpec, *, since: datetime | None = None) -> str | None:
        """Runway cannot list tasks or look one up by idempotency key: an uncertain submit stays so."""
        self._check(spec)
        raise ReconcileUnsupported(
            "Runway has no way to list tasks or find one by its idempotency key", provider=NAME
        )

    async def cancel(self, remote_id: str) -> None:
        """``DELETE /v1/tasks/{id}``: Runway stops a pending or running task (refunds depend on timing)."""
        with _translated("cancel"):
            await self._client.tasks.delete(remote_id)

    def _check(self, spec: RenderSpec) -> RunwayModel:
        """Refuse what Runway would refuse, before anything is spent."""
        self.capabilities().model(spec.model)  # raises InvalidOptions for an unknown model
        model = MODELS[spec.model]
        if spec.seconds not in model.durations:
            allowed = ", ".join(str(d) for d in model.durations)
            raise InvalidOptions(f"Runway {model.name} makes clips of {allowed} seconds, not {spec.seconds}.")
        allowed_sizes = {model.sizes.get(spec.aspect), model.high_sizes.get(spec.aspect)} - {None}
        if spec.size not in allowed_sizes:
            raise InvalidOptions(f"Runway {model.name} cannot make a {spec.aspect} clip at {spec.size}.")
        units = len(spec.brief.prompt.encode("utf-16-le")) // 2
        if units > MAX_PROMPT_UNITS:
            raise PermanentProviderError(
                f"the prompt is {units} characters; Runway takes at most {MAX_PROMPT_UNITS}", provider=NAME
            )
        return model

    async def _task(self, remote_id: str) -> TaskRetrieveResponse:
        with _translated("status"):
            raw = await self._client.tasks.with_raw_response.retrieve(remote_id)
        task: TaskRetrieveResponse = await _parsed(raw, "status")
        return task

    def _usd(self, credits: float) -> float:
        return round(credits * self._usd_per_credit, 4)


def _data_uri(image: Path) -> str:
    """The frame as a ``data:image/png;base64,…`` URI (the cutter writes PNG frames)."""
    return "data:image/png;base64," + base64.b64encode(image.read_bytes()).decode("ascii")


async def _parsed(raw: Any, action: str) -> Any:
    """The SDK's object for a JSON answer; a proxy's HTML page is an unexpected response.

    (The SDK parses a non-JSON body as text and then fails on it with an ``AttributeError``.)
    """
    kind = raw.headers.get("content-type", "")
    if "json" not in kind:
        body = await raw.text()
        raise faults.unexpected_response(NAME, action, f"{kind or 'no content type'}: {body}", label="Runway")
    return await raw.parse()


def _failure_message(code: str, failure: str) -> str:
    """Runway asks that its failure text get context before users see it.

    A refusal is shown after the worker's "runway refused the prompt:", so it does
    not name Runway again.
    """
    if code.startswith("SAFETY.INPUT"):
        what = "the prompt text" if code.endswith("TEXT") else "an input"
        return f"its content moderation flagged {what} ({code}): {failure}"
    if code.startswith("SAFETY.OUTPUT"):
        return f"its content moderation rejected the generated video ({code}): {failure}"
    return f"Runway could not make the video ({code or 'no code'}): {failure}"


@contextlib.contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turn SDK errors into the core's provider errors (see :mod:`adapters.providers.faults`)."""
    try:
        yield
    except runwayml.APIStatusError as exc:
        raise _status_error(exc, action) from exc
    except runwayml.APITimeoutError as exc:
        # Slow is not down: a timed-out create may still have made a task.
        raise faults.in_transit(NAME, action, "timed out", label="Runway") from exc
    except runwayml.APIConnectionError as exc:
        if isinstance(exc.__cause__, httpx.ConnectError | ConnectionRefusedError):
            raise faults.unreachable(NAME, repr(exc.__cause__), label="Runway") from exc
        # Dropped mid-answer: worth another try, not a reason to move the render elsewhere.
        raise faults.in_transit(NAME, action, repr(exc.__cause__), label="Runway") from exc


def _status_error(exc: runwayml.APIStatusError, action: str) -> ProviderError:
    message = _error_text(exc)
    refused = exc.status_code == 400 and bool(_MODERATION.search(message))
    # Runway's own words on a refusal; the worker adds "runway refused the prompt:" in front.
    return faults.status_error(
        NAME, action, exc.status_code, message, headers=exc.response.headers, refused=refused, label="Runway"
    )


def _error_text(exc: runwayml.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    return exc.message
