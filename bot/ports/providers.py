"""The video provider port: what a text-to-video service can make, and how the worker drives it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

from bot import texts
from bot.domain import Brief
from bot.errors import InvalidOptions


class Continuity(StrEnum):
    """How a model can join one shot to the next (multi-shot cuts)."""

    FIRST_FRAME = "first_frame"  # start the clip from a given image (e.g. the previous shot's last frame)
    LAST_FRAME = "last_frame"  # end the clip on a given image
    EXTEND = "extend"  # continue an earlier job of the same provider natively


class Tier(StrEnum):
    """Where a model sits for drafts and finals: a draft is the provider's cheap, fast tier."""

    DRAFT = "draft"
    FINAL = "final"


@dataclass(frozen=True)
class ModelSpec:
    """What one model of a provider can make, and what a second of it costs (USD)."""

    name: str
    durations: tuple[int, ...]
    sizes: dict[str, str]  # aspect ("16:9") -> size ("1280x720")
    price_per_second: float
    audio: bool = False
    max_prompt_chars: int = 4000
    quality_sizes: dict[str, dict[str, str]] = field(default_factory=dict)
    quality_prices: dict[str, float] = field(default_factory=dict)
    continuity: frozenset[Continuity] = frozenset()
    tier: Tier = Tier.FINAL
    # The longest shot to aim for in a multi-shot cut, when shorter than the longest clip the
    # model makes (a storyboard card reads best at 10 s); ``None``: the longest it makes.
    longest_shot: int | None = None

    def size_for(self, aspect: str, quality: str = "standard") -> str:
        return self.quality_sizes.get(quality, {}).get(aspect) or self.sizes[aspect]

    def price_for(self, quality: str = "standard") -> float:
        return self.quality_prices.get(quality, self.price_per_second)


class SourceType(StrEnum):
    """IPTC digital source type of what a provider makes (C2PA ``digitalSourceType``)."""

    TRAINED = "trainedAlgorithmicMedia"  # a trained generative model (Sora, Veo, Runway, …)
    ALGORITHMIC = "algorithmicMedia"  # made by an algorithm without a trained model (the animatic)


@dataclass(frozen=True)
class Capabilities:
    provider: str
    models: tuple[ModelSpec, ...]
    default_model: str
    label: str = ""
    source_type: SourceType = SourceType.TRAINED
    # The provider honours an idempotency key on create: re-sending the same key cannot start a
    # second paid job, so an ambiguous submit may simply be sent again with that key.
    idempotent_submit: bool = False

    def model(self, name: str | None = None) -> ModelSpec:
        wanted = name or self.default_model
        for spec in self.models:
            if spec.name == wanted:
                return spec
        raise InvalidOptions(texts.unknown_model(self.provider, wanted, [m.name for m in self.models]))

    @property
    def durations(self) -> tuple[int, ...]:
        return tuple(sorted({d for m in self.models for d in m.durations}))

    @property
    def aspects(self) -> tuple[str, ...]:
        return tuple(sorted({a for m in self.models for a in m.sizes}))


@dataclass(frozen=True)
class RenderSpec:
    """Everything a provider needs to make one clip.

    ``idempotency_key`` is derived from the render id and attempt; providers send it where
    the API accepts one and use it to find a job an ambiguous submit may have created.
    ``first_frame``/``last_frame`` (images) and ``extend_remote_id`` (an earlier job of the
    same provider) are set only when the model declares the matching :class:`Continuity`.
    """

    render_id: str
    brief: Brief
    model: str
    seconds: int
    size: str
    aspect: str
    seed: int | None = None
    idempotency_key: str = ""
    prompt: str | None = None  # the shot's own text in a multi-shot cut; else the brief's prompt
    first_frame: Path | None = None
    last_frame: Path | None = None
    extend_remote_id: str | None = None


class RemoteState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class RemoteStatus:
    state: RemoteState
    progress: int = 0
    poll_after: float | None = None
    error: str | None = None
    refused: bool = False
    charged: bool = True
    cost: float | None = None


@runtime_checkable
class VideoProvider(Protocol):
    """A text-to-video service. Implementations never block the event loop."""

    name: str

    def capabilities(self) -> Capabilities: ...

    async def submit(self, spec: RenderSpec) -> str:
        """Start a job and return its remote id. Raise Transient/Permanent provider errors."""
        ...

    async def status(self, remote_id: str) -> RemoteStatus: ...

    async def download(self, remote_id: str, dest: Path) -> None:
        """Stream the finished clip to ``dest``."""
        ...

    async def find(self, spec: RenderSpec, *, since: datetime | None = None) -> str | None:
        """Reconcile after an ambiguous submit: the remote id of a job made for ``spec``, if any.

        ``since`` is when the intent to submit was recorded: a job created before it belongs to
        an earlier attempt. Returns ``None`` only when the provider can tell no such job exists
        (so submitting again cannot pay twice). Raises :class:`bot.errors.ReconcileUnsupported`
        when the provider cannot tell; the core then marks the render "submission uncertain".
        """
        ...

    async def cancel(self, remote_id: str) -> None:
        """Ask the provider to stop a job (best effort; a no-op where the API has no cancel)."""
        ...
