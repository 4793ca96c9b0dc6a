"""Video models on Replicate, through the official ``replicate`` SDK.

Models are named ``owner/name`` (the model's latest version, ``POST
/v1/models/{owner}/{name}/predictions``) or ``owner/name:version`` (a pinned
version, ``POST /v1/predictions``). Each known family's input names are in
:data:`MODELS`; a pinned version uses its family's entry. The remote id is the
prediction id; ``cancel`` is ``POST /v1/predictions/{id}/cancel``. With a webhook
URL, predictions carry ``webhook`` and ``webhook_events_filter=["completed"]``.

Retries: the SDK retries only idempotent methods (its status ``GET`` on
429/503/504); creates are sent once. A create that ends ambiguously raises
``SubmissionUncertain``, and :meth:`ReplicateProvider.find` lists predictions
(``GET /v1/predictions``, newest first) for one created after the intent with the
same model and input; the per-render seed makes that exact for models that take
a seed, and several matches are refused rather than guessed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from replicate.client import Client
from replicate.exceptions import ReplicateError
from replicate.prediction import Prediction

from adapters.providers import faults
from adapters.providers.downloads import data_uri, stream_url_to_file
from adapters.providers.reconcile import IntentLog, single_match
from bot.errors import InvalidOptions, PermanentProviderError, ProviderError
from bot.ports import Capabilities, Continuity, ModelSpec, RemoteState, RemoteStatus, RenderSpec, Tier

log = logging.getLogger(__name__)

NAME = "replicate"
LABEL = "Replicate"
MAX_PROMPT_CHARS = 2500
_REFUSAL = re.compile(r"nsfw|flagged|sensitive|safety|content policy|moderation", re.IGNORECASE)
_THROTTLED = re.compile(r"available in (\d+(?:\.\d+)?) second", re.IGNORECASE)
_IMAGE = re.compile(r"\.(png|jpe?g|webp|gif)(\?|$)", re.IGNORECASE)


@dataclass(frozen=True)
class ReplicateModel:
    """One model family's inputs (from its page on Replicate, Nov 2026)."""

    name: str
    durations: tuple[int, ...]
    sizes: dict[str, str]
    price: float
    duration: str = "duration"  # "duration" (seconds) or "frames" (num_frames at fps)
    fps: int = 16
    aspect_arg: bool = True
    seed_arg: bool = True
    negative_arg: bool = False
    first_frame_arg: str | None = None
    last_frame_arg: str | None = None
    tier: Tier = Tier.FINAL
    extra: dict[str, Any] = field(default_factory=dict)


MODELS: dict[str, ReplicateModel] = {
    m.name: m
    for m in (
        ReplicateModel(
            "minimax/hailuo-02",
            (6, 10),
            {"16:9": "1366x768"},
            0.045,
            aspect_arg=False,
            seed_arg=False,
            first_frame_arg="first_frame_image",
            last_frame_arg="last_frame_image",
            extra={"resolution": "768p", "prompt_optimizer": False},
        ),
        ReplicateModel(
            "kwaivgi/kling-v2.5-turbo-pro",
            (5, 10),
            {"16:9": "1920x1080", "9:16": "1080x1920", "1:1": "1080x1080"},
            0.07,
            seed_arg=False,
            negative_arg=True,
            first_frame_arg="start_image",
        ),
        ReplicateModel(
            "wan-video/wan-2.2-t2v-fast",
            (5,),
            {"16:9": "1280x720", "9:16": "720x1280"},
            0.02,
            duration="frames",
            negative_arg=False,
            tier=Tier.DRAFT,
            extra={"resolution": "720p"},
        ),
    )
}


class ReplicateProvider:
    """A :class:`~bot.ports.VideoProvider` for video models hosted on Replicate."""

    name = NAME
    reconciliation = "exact"  # predictions are listed with model, input and created_at

    def __init__(
        self,
        client: Client,
        *,
        model: str = "minimax/hailuo-02",
        prices: Mapping[str, float] | None = None,
        webhook_url: str | None = None,
        poll_seconds: float = 5.0,
    ) -> None:
        family, _, self._version = model.partition(":")
        if family not in MODELS:
            raise ValueError(f"unknown Replicate model {family!r}; known: {', '.join(MODELS)}")
        self._client = client
        self._model = family
        self._prices = {name: m.price for name, m in MODELS.items()} | dict(prices or {})
        self._webhook_url = webhook_url
        self._poll_seconds = poll_seconds
        self._intents = IntentLog()

    def capabilities(self) -> Capabilities:
        models = tuple(
            ModelSpec(
                name=m.name,
                durations=m.durations,
                sizes=dict(m.sizes),
                price_per_second=self._prices[m.name],
                max_prompt_chars=MAX_PROMPT_CHARS,
                continuity=_continuity(m),
                tier=m.tier,
            )
            for m in MODELS.values()
        )
        return Capabilities(NAME, models, default_model=self._model, label="Replicate")

    async def submit(self, spec: RenderSpec) -> str:
        model = self._check(spec)
        inputs = await asyncio.to_thread(self._inputs, model, spec)
        params: dict[str, Any] = {}
        if self._webhook_url:
            params = {"webhook": self._webhook_url, "webhook_events_filter": ["completed"]}
        self._intents.mark(spec.idempotency_key)
        with _translated(faults.CREATE):
            if self._version and model.name == self._model:
                prediction = await self._client.predictions.async_create(self._version, inputs, **params)
            else:
                prediction = await self._client.models.predictions.async_create(model.name, inputs, **params)
        return str(prediction.id)

    async def status(self, remote_id: str) -> RemoteStatus:
        with _translated("status"):
            prediction = await self._client.predictions.async_get(remote_id)
        if prediction.status == "starting":
            return RemoteStatus(RemoteState.QUEUED, poll_after=self._poll_seconds)
        if prediction.status == "processing":
            progress = prediction.progress
            percent = min(int(progress.percentage * 100), 99) if progress else 10
            return RemoteStatus(RemoteState.RUNNING, progress=percent, poll_after=self._poll_seconds)
        if prediction.status == "succeeded":
            try:
                _video_url(prediction)
            except PermanentProviderError as exc:
                return RemoteStatus(RemoteState.FAILED, error=str(exc))
            return RemoteStatus(RemoteState.COMPLETED, progress=100)
        error = str(prediction.error or f"the prediction was {prediction.status}")
        refused = prediction.status == "failed" and bool(_REFUSAL.search(error))
        return RemoteStatus(RemoteState.FAILED, error=error, refused=refused, charged=False)

    async def download(self, remote_id: str, dest: Path) -> None:
        with _translated("download"):
            prediction = await self._client.predictions.async_get(remote_id)
        if prediction.status != "succeeded":
            missing = f"prediction {remote_id} has no video ({prediction.status})"
            raise PermanentProviderError(missing, provider=NAME)
        await stream_url_to_file(_video_url(prediction), dest, provider=NAME, label=LABEL)

    async def find(self, spec: RenderSpec, *, since: datetime | None = None) -> str | None:
        """The prediction an ambiguous create made: same model and input, created after the intent."""
        model = self._check(spec)
        wanted = {k: v for k, v in self._inputs(model, spec, frames=False).items()}
        earliest = self._intents.since(spec.idempotency_key, since)
        matches: list[str] = []
        cursor: Any = ...
        with _translated("find"):
            while cursor is not None:
                page = await self._client.predictions.async_list(cursor)
                for prediction in page.results:
                    if _created(prediction) < earliest:
                        cursor = None
                        break
                    given = prediction.input or {}
                    if prediction.model == model.name and all(given.get(k) == v for k, v in wanted.items()):
                        matches.append(prediction.id)
                else:
                    cursor = page.next
        return single_match(NAME, matches)

    async def cancel(self, remote_id: str) -> None:
        """``POST /v1/predictions/{id}/cancel``: Replicate stops the prediction and its billing."""
        with _translated("cancel"):
            await self._client.predictions.async_cancel(remote_id)

    # ------------------------------------------------------------------ helpers

    def _check(self, spec: RenderSpec) -> ReplicateModel:
        self.capabilities().model(spec.model)
        model = MODELS[spec.model]
        if spec.seconds not in model.durations:
            allowed = ", ".join(str(d) for d in model.durations)
            raise InvalidOptions(
                f"Replicate {model.name} makes clips of {allowed} seconds, not {spec.seconds}."
            )
        if model.sizes.get(spec.aspect) != spec.size:
            raise InvalidOptions(f"Replicate {model.name} cannot make a {spec.aspect} clip at {spec.size}.")
        if spec.first_frame and not model.first_frame_arg:
            raise InvalidOptions(f"Replicate {model.name} cannot start from a given frame.")
        if spec.last_frame and not model.last_frame_arg:
            raise InvalidOptions(f"Replicate {model.name} cannot end on a given frame.")
        if spec.extend_remote_id:
            raise InvalidOptions(f"Replicate {model.name} cannot extend an earlier clip.")
        if len(spec.prompt or spec.brief.prompt) > MAX_PROMPT_CHARS:
            raise InvalidOptions(f"Replicate takes prompts of at most {MAX_PROMPT_CHARS} characters.")
        return model

    def _inputs(self, model: ReplicateModel, spec: RenderSpec, *, frames: bool = True) -> dict[str, Any]:
        """The prediction input; ``frames=False`` leaves out the images (Replicate rewrites them)."""
        inputs: dict[str, Any] = {"prompt": spec.prompt or spec.brief.prompt, **model.extra}
        if model.duration == "frames":
            inputs.update(num_frames=spec.seconds * model.fps + 1, frames_per_second=model.fps)
        else:
            inputs["duration"] = spec.seconds
        if model.aspect_arg:
            inputs["aspect_ratio"] = spec.aspect
        if model.seed_arg and spec.seed is not None:
            inputs["seed"] = spec.seed
        if model.negative_arg and spec.brief.negative_prompt:
            inputs["negative_prompt"] = spec.brief.negative_prompt
        if frames and spec.first_frame and model.first_frame_arg:
            inputs[model.first_frame_arg] = data_uri(spec.first_frame)
        if frames and spec.last_frame and model.last_frame_arg:
            inputs[model.last_frame_arg] = data_uri(spec.last_frame)
        return inputs


def _continuity(model: ReplicateModel) -> frozenset[Continuity]:
    kinds = {Continuity.FIRST_FRAME} if model.first_frame_arg else set()
    return frozenset(kinds | ({Continuity.LAST_FRAME} if model.last_frame_arg else set()))


def _created(prediction: Prediction) -> float:
    try:
        return datetime.fromisoformat(str(prediction.created_at).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _video_url(prediction: Prediction) -> str:
    output = prediction.output
    url = output[-1] if isinstance(output, list) and output else output
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        found = str(output)[:120]
        raise PermanentProviderError(f"Replicate finished without a video: {found}", provider=NAME)
    if _IMAGE.search(url):
        raise PermanentProviderError("Replicate returned an image, not a video", provider=NAME)
    return url


@contextlib.contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turn SDK and transport errors into the core's provider errors."""
    try:
        yield
    except ReplicateError as exc:
        raise _status_error(exc, action) from exc
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise faults.unreachable(NAME, repr(exc), label=LABEL) from exc
    except httpx.TransportError as exc:
        raise faults.in_transit(NAME, action, repr(exc), label=LABEL) from exc
    except (ValueError, KeyError, TypeError) as exc:  # a 2xx that is not Replicate's JSON
        raise faults.unexpected_response(NAME, action, exc, label=LABEL) from exc


def _status_error(exc: ReplicateError, action: str) -> ProviderError:
    status = int(exc.status or 0)
    detail = str(exc.detail or exc.title or "no detail")
    throttled = _THROTTLED.search(detail)
    headers = {"retry-after": throttled.group(1)} if throttled else None
    refused = status in (400, 422) and bool(_REFUSAL.search(detail))
    return faults.status_error(NAME, action, status, detail, headers=headers, refused=refused, label=LABEL)
