"""Choose a provider and model for a request within its workspace's policy, check the options, price it.

The plan is chosen once, when a brief is written, and stored with the brief and
its renders; failover starts from that plan and walks only the providers the
workspace allows, in the workspace's order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from bot import texts
from bot.cuts import MAX_CUT_SECONDS, needs_cut, split_seconds
from bot.domain import Plan, ReplyTarget, RequestOptions
from bot.errors import InvalidOptions
from bot.policy import Policy
from bot.ports.providers import Capabilities, ModelSpec, Tier, VideoProvider

DEFAULT_SECONDS = 8
DEFAULT_ASPECT = "16:9"


class ProviderRouter:
    """The providers this process can render on, in the order the operator prefers them."""

    def __init__(
        self,
        providers: Mapping[str, VideoProvider],
        order: Sequence[str],
        *,
        max_cut_seconds: int = MAX_CUT_SECONDS,
    ) -> None:
        if not providers:
            raise ValueError("at least one video provider is needed")
        self._providers = dict(providers)
        self.max_cut_seconds = max_cut_seconds
        self._order = [name for name in order if name in self._providers] or list(self._providers)

    @property
    def names(self) -> list[str]:
        return list(self._order)

    def get(self, name: str) -> VideoProvider:
        try:
            return self._providers[name]
        except KeyError:
            raise InvalidOptions(texts.unknown_provider(name, self._order)) from None

    def plan_on(self, name: str, options: RequestOptions, *, pinned: bool) -> Plan:
        """Validate ``options`` against provider ``name`` and price one render there."""
        caps = self.get(name).capabilities()
        spec = caps.model(options.model) if options.model or not options.draft else draft_model(caps)
        aspect = options.aspect or DEFAULT_ASPECT
        if aspect not in spec.sizes:
            raise InvalidOptions(texts.aspect_not_made(caps.provider, spec.name, sorted(spec.sizes), aspect))
        shot_seconds: tuple[int, ...] = ()
        if needs_cut(options.seconds, options.shots, spec.durations):
            # Longer than one clip (or shots asked for): a cut of shots the model makes.
            total = options.seconds or sum(
                _seconds_for(spec, None, caps.provider) for _ in range(options.shots or 1)
            )
            shot_seconds = split_seconds(
                total,
                spec.durations,
                shots=options.shots,
                longest=spec.longest_shot,
                max_seconds=self.max_cut_seconds,
            )
        seconds = sum(shot_seconds) if shot_seconds else _seconds_for(spec, options.seconds, caps.provider)
        return Plan(
            provider=caps.provider,
            model=spec.name,
            seconds=seconds,
            aspect=aspect,
            size=spec.size_for(aspect, options.quality),
            variants=options.variants,
            price_per_second=spec.price_for(options.quality),
            pinned=pinned,
            quality=options.quality,
            # a draft is a cut even of one shot, so its final repeats the shots with their seeds
            shot_seconds=shot_seconds if len(shot_seconds) > 1 else ((seconds,) if options.draft else ()),
            draft=bool(options.draft),
        )


class Planner:
    """Plans within a workspace's policy: its provider order and allow-list decide, not the process's."""

    def __init__(self, providers: ProviderRouter, policy_for: Callable[[ReplyTarget], Policy]) -> None:
        self.providers = providers
        self.policy_for = policy_for

    def order_for(self, target: ReplyTarget) -> list[str]:
        """The providers this workspace may use, best first."""
        policy = self.policy_for(target)
        known = self.providers.names
        if policy.provider_order:
            order = [p for p in policy.provider_order if p in known]
        else:
            first = [policy.default_provider] if policy.default_provider in known else []
            order = first + [p for p in known if p not in first]
        if policy.allowed_providers:
            order = [p for p in order if p in policy.allowed_providers]
        return order

    def plan(self, target: ReplyTarget, options: RequestOptions) -> Plan:
        """The plan for ``options`` here; raises :class:`InvalidOptions` with what can be made instead.

        A draft (asked for, or the workspace's default) is planned at the draft tier, priced
        with what its final will cost, so both costs are shown before anything is spent.
        """
        policy = self.policy_for(target)
        if options.draft is None and policy.draft_first:
            options = replace(options, draft=True)
        if options.draft:
            plan = self._plan(target, options)
            final = self.final_for(target, options, plan)
            return replace(plan, final_cost=final.cost_estimate if final else None)
        return self._plan(target, options)

    def final_for(self, target: ReplyTarget, options: RequestOptions, draft: Plan) -> Plan | None:
        """The final of ``draft``: the same shots on the best final-tier model the workspace allows.

        Its own provider's final model if it has one, else the next allowed provider with one
        (the storyboard animatic drafts for any of them); ``None`` when none can make it.
        """
        wanted = replace(options, draft=False, shots=len(draft.shot_seconds) or None, seconds=draft.seconds)
        order = [draft.provider] + [p for p in self.order_for(target) if p != draft.provider]
        for name in order:
            caps = self.providers.get(name).capabilities()
            finals = [m for m in caps.models if m.tier == Tier.FINAL]
            if not finals:
                continue
            model = (
                caps.model()
                if caps.model().tier == Tier.FINAL
                else max(finals, key=lambda m: m.price_per_second)
            )
            try:
                return self.providers.plan_on(
                    name, replace(wanted, provider=name, model=model.name), pinned=True
                )
            except InvalidOptions:
                continue
        return None

    def _plan(self, target: ReplyTarget, options: RequestOptions) -> Plan:
        policy = self.policy_for(target)
        if options.provider:
            if policy.allowed_providers and options.provider not in policy.allowed_providers:
                raise InvalidOptions(texts.provider_not_allowed(policy.allowed_providers, options.provider))
            return self.providers.plan_on(options.provider, options, pinned=True)
        order = self.order_for(target)
        if not order:
            raise InvalidOptions(texts.NO_PROVIDER_ALLOWED)
        return self.providers.plan_on(order[0], options, pinned=False)

    def failover(self, target: ReplyTarget, current: Plan, tried: Sequence[str]) -> Plan | None:
        """The next allowed provider after ``current`` that can make the same clip, or ``None``."""
        if current.pinned:
            return None
        wanted = RequestOptions(
            seconds=current.seconds,
            aspect=current.aspect,
            variants=1,
            quality=current.quality,
            shots=len(current.shot_seconds) or None,
        )
        for name in self.order_for(target):
            if name == current.provider or name in tried:
                continue
            try:
                return self.providers.plan_on(name, wanted, pinned=False)
            except InvalidOptions:
                continue
        return None


def draft_model(caps: Capabilities) -> ModelSpec:
    """A provider's draft tier: its cheapest draft-tier model, else its cheapest model."""
    drafts = [m for m in caps.models if m.tier == Tier.DRAFT] or list(caps.models)
    return min(drafts, key=lambda m: m.price_per_second)


def _seconds_for(spec: ModelSpec, wanted: int | None, provider: str) -> int:
    if wanted is None:
        # The closest supported length to a sensible default.
        return min(spec.durations, key=lambda d: (abs(d - DEFAULT_SECONDS), d))
    if wanted not in spec.durations:
        nearest = min(spec.durations, key=lambda d: abs(d - wanted))
        raise InvalidOptions(texts.seconds_not_made(provider, spec.name, spec.durations, wanted, nearest))
    return wanted
