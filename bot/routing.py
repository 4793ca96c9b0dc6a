"""Choose a provider and model for a request, check the options against it, and price it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain import RenderOptions
from bot.errors import InvalidOptions
from bot.ports import ModelSpec, VideoProvider

DEFAULT_SECONDS = 8
DEFAULT_ASPECT = "16:9"


@dataclass(frozen=True)
class Plan:
    """A priced, validated choice: what will be rendered where."""

    provider: str
    model: str
    seconds: int
    aspect: str
    size: str
    variants: int
    price_per_second: float
    pinned: bool

    @property
    def cost_estimate(self) -> float:
        return round(self.price_per_second * self.seconds * self.variants, 4)


class ProviderRouter:
    """The configured providers, in the order clipdesk prefers them."""

    def __init__(self, providers: Mapping[str, VideoProvider], order: Sequence[str]) -> None:
        if not providers:
            raise ValueError("at least one video provider is needed")
        self._providers = dict(providers)
        self._order = [name for name in order if name in self._providers] or list(self._providers)

    @property
    def names(self) -> list[str]:
        return list(self._order)

    def get(self, name: str) -> VideoProvider:
        try:
            return self._providers[name]
        except KeyError:
            raise InvalidOptions(self._unknown(name)) from None

    def _unknown(self, name: str) -> str:
        return f"I don't know the provider `{name}`. Available here: {', '.join(self._order)}."

    def plan(self, options: RenderOptions, *, order: Sequence[str] | None = None) -> Plan:
        """Validate ``options`` against the pinned or first provider and price the render."""
        if options.provider:
            return self._plan_on(options.provider, options, pinned=True)
        first = (order or self._order)[0]
        return self._plan_on(first, options, pinned=False)

    def failover(self, current: str, options: RenderOptions, tried: Sequence[str]) -> Plan | None:
        """The next provider after ``current`` that can make the same clip, or ``None``."""
        if options.provider:
            return None
        for name in self._order:
            if name == current or name in tried:
                continue
            try:
                return self._plan_on(name, options, pinned=False)
            except InvalidOptions:
                continue
        return None

    def _plan_on(self, name: str, options: RenderOptions, *, pinned: bool) -> Plan:
        if name not in self._providers:
            raise InvalidOptions(self._unknown(name))
        caps = self._providers[name].capabilities()
        spec = caps.model(options.model)
        aspect = options.aspect or DEFAULT_ASPECT
        if aspect not in spec.sizes:
            raise InvalidOptions(
                f"{caps.provider} ({spec.name}) makes {', '.join(sorted(spec.sizes))}, not {aspect}."
            )
        seconds = _seconds_for(spec, options.seconds, caps.provider)
        return Plan(
            provider=caps.provider,
            model=spec.name,
            seconds=seconds,
            aspect=aspect,
            size=spec.size_for(aspect, options.quality),
            variants=options.variants,
            price_per_second=spec.price_for(options.quality),
            pinned=pinned,
        )


def _seconds_for(spec: ModelSpec, wanted: int | None, provider: str) -> int:
    if wanted is None:
        # The closest supported length to a sensible default.
        return min(spec.durations, key=lambda d: (abs(d - DEFAULT_SECONDS), d))
    if wanted not in spec.durations:
        allowed = ", ".join(str(d) for d in spec.durations)
        raise InvalidOptions(
            f"{provider} ({spec.name}) can make clips of {allowed} seconds, not {wanted}. "
            f"Try `--seconds {min(spec.durations, key=lambda d: abs(d - wanted))}`."
        )
    return wanted
