"""A cut: the shots of a brief, each rendered as its own job, stitched into one reviewed clip.

A :class:`Cut` sits between a :class:`~bot.domain.Brief` and its renders. Each shot is a
:class:`~bot.domain.Render` of its own (``render.shot`` is its number); the cut's own render
(``render.shot is None``) waits until every shot is ready, stitches them, and is what is
reviewed, approved, signed and delivered. Cuts are versioned like briefs: re-rendering one
shot makes cut v2, which reuses the other shots' renders (and their files).

:func:`split_seconds` decides the shot lengths: values the model makes, summing exactly to
the length asked for, as few jobs as the model's longest shot allows (or the number asked).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bot import texts
from bot.domain import Brief, Plan, Render, Shot, VideoRequest, new_id, utcnow
from bot.errors import InvalidOptions

MAX_CUT_SECONDS = 120  # default ceiling of a cut's length (configurable per process)
MAX_SHOTS = 24


@dataclass(frozen=True)
class CutShot:
    """One shot of one cut version: which render made it, for how long, with which seed."""

    index: int
    render_id: str
    seconds: int
    seed: int
    continues: bool = False
    reused: bool = False  # carried over from the previous cut version (its bytes are reused)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "render_id": self.render_id,
            "seconds": self.seconds,
            "seed": self.seed,
            "continues": self.continues,
            "reused": self.reused,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CutShot:
        return cls(
            index=int(data["index"]),
            render_id=str(data["render_id"]),
            seconds=int(data["seconds"]),
            seed=int(data["seed"]),
            continues=bool(data.get("continues")),
            reused=bool(data.get("reused")),
        )


@dataclass(frozen=True)
class Cut:
    """One version of the cut of a request: its shots and the render that stitches them."""

    request_id: str
    brief_id: str
    version: int
    render_id: str  # the cut's own render: stitched, reviewed, delivered
    shots: tuple[CutShot, ...]
    draft: bool = False
    crossfade: float = 0.0
    id: str = field(default_factory=lambda: new_id("cut"))
    created_at: datetime = field(default_factory=utcnow)

    @property
    def seconds(self) -> int:
        return sum(s.seconds for s in self.shots)

    def shot(self, index: int) -> CutShot:
        for shot in self.shots:
            if shot.index == index:
                return shot
        raise InvalidOptions(texts.no_such_shot(index, len(self.shots)))


def shot_seed(brief_id: str, index: int, take: int = 1) -> int:
    """The seed of a shot: fixed by the brief, the shot and its take (a re-render is a new take),
    so a final repeats its draft's shots exactly."""
    key = f"{brief_id}:shot:{index}" + (f":take:{take}" if take > 1 else "")
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % 2**31


def needs_cut(seconds: int | None, shots: int | None, durations: Sequence[int]) -> bool:
    """Whether an ask becomes a multi-shot cut: longer than the model's longest clip, or shots asked."""
    return (shots is not None and shots > 1) or (seconds is not None and seconds > max(durations))


def split_seconds(
    total: int,
    durations: Sequence[int],
    *,
    shots: int | None = None,
    longest: int | None = None,
    max_seconds: int = MAX_CUT_SECONDS,
) -> tuple[int, ...]:
    """Shot lengths the model makes that add up to ``total``: the fewest shots, as even as possible.

    Args:
        total: the cut's length in seconds.
        durations: the lengths the model makes.
        shots: the number of shots asked for (``--shots N``); else the fewest that fit.
        longest: the longest shot to aim for (a model may make longer clips than read well in
            a cut, e.g. a storyboard card); the model's longest when not given.
        max_seconds: the longest cut clipdesk makes.

    Raises:
        InvalidOptions: too long, or no such shot list exists (the message names the nearest
            lengths that can be made).
    """
    allowed = sorted(set(durations))
    if total > max_seconds:
        raise InvalidOptions(texts.cut_too_long(total, max_seconds))
    if shots is not None and not 1 <= shots <= MAX_SHOTS:
        raise InvalidOptions(texts.bad_shots(shots, MAX_SHOTS))
    aim = min(longest or allowed[-1], allowed[-1])
    counts = [shots] if shots else range(max(1, math.ceil(total / aim)), MAX_SHOTS + 1)
    for count in counts:
        found = _even_split(total, count, allowed)
        if found is not None:
            return found
    nearest = _nearest_totals(total, allowed, shots, max_seconds)
    raise InvalidOptions(texts.cut_cannot_add_up(total, allowed, shots, nearest))


def _even_split(total: int, count: int, allowed: list[int]) -> tuple[int, ...] | None:
    """``count`` allowed lengths summing to ``total`` with the smallest spread, longest first."""
    if count * allowed[0] > total or count * allowed[-1] < total:
        return None
    best: tuple[int, ...] | None = None
    # Try spreads from tight to loose: every length within [low, high] of the allowed values.
    pairs = sorted(
        ((lo, hi) for i, lo in enumerate(allowed) for hi in allowed[i:]), key=lambda p: (p[1] - p[0], -p[1])
    )
    for low, high in pairs:
        window = [d for d in allowed if low <= d <= high]
        found = _compose(total, count, window)
        if found is not None:
            best = tuple(sorted(found, reverse=True))
            break
    return best


def _compose(total: int, count: int, window: list[int]) -> list[int] | None:
    """Any ``count`` values of ``window`` summing to ``total`` (a small dynamic programme)."""
    reach: dict[tuple[int, int], list[int]] = {(0, 0): []}
    for used in range(count):
        nxt: dict[tuple[int, int], list[int]] = {}
        for (n, s), picked in reach.items():
            if n != used:
                continue
            for d in window:
                if s + d <= total and (n + 1, s + d) not in nxt:
                    nxt[(n + 1, s + d)] = [*picked, d]
        reach = nxt
    return reach.get((count, total))


def _nearest_totals(total: int, allowed: list[int], shots: int | None, max_seconds: int) -> list[int]:
    """The makeable lengths just below and above ``total`` (for the refusal message)."""
    counts = [shots] if shots else list(range(1, MAX_SHOTS + 1))
    makeable: set[int] = set()
    for count in counts:
        sums = {0}
        for _ in range(count):
            sums = {s + d for s in sums for d in allowed if s + d <= max_seconds}
        makeable |= sums
    below = [t for t in makeable if t < total]
    above = [t for t in makeable if t > total]
    return ([max(below)] if below else []) + ([min(above)] if above else [])


# A cut's own render waits, unclaimable, until its last shot is ready and releases it.
WAITING = datetime(9999, 1, 1, tzinfo=UTC)


def shot_lengths(brief: Brief, plan: Plan) -> list[tuple[Shot, int]]:
    """The brief's shots with the length each renders at (the plan's, which the model makes)."""
    shots = list(brief.shots)
    lengths = list(plan.shot_seconds)
    if len(shots) != len(lengths):
        # A refiner that wrote another number of shots: the plan's lengths win, its words are reused.
        base = shots or [Shot(1, float(plan.seconds), brief.prompt, brief.camera)]
        shots = [replace(base[min(i, len(base) - 1)], index=i + 1) for i in range(len(lengths))]
    return [(replace(s, seconds=float(n)), n) for s, n in zip(shots, lengths, strict=True)]


def plan_cut(
    request: VideoRequest, brief: Brief, plan: Plan, now: datetime, *, version: int = 1
) -> tuple[Cut, list[Render]]:
    """A new cut of ``brief``: a render per shot (each its own provider job) and the cut's render."""
    cut_id = new_id("cut")
    shots: list[CutShot] = []
    renders: list[Render] = []
    for shot, seconds in shot_lengths(brief, plan):
        render = _render(request, brief, plan, now, seconds=seconds, cut_id=cut_id, shot=shot.index)
        render.cost_estimate = round(plan.price_per_second * seconds, 4)
        renders.append(render)
        seed = shot_seed(brief.id, shot.index)
        shots.append(
            CutShot(shot.index, render.id, seconds, seed, continues=shot.continues and shot.index > 1)
        )
    # Free of cost itself (its shots carry the spend), and unclaimable until they are ready.
    stitcher = _render(request, brief, plan, now, seconds=plan.seconds, cut_id=cut_id, shot=None)
    stitcher.next_attempt_at = WAITING
    cut = Cut(
        request_id=request.id,
        brief_id=brief.id,
        version=version,
        render_id=stitcher.id,
        shots=tuple(shots),
        draft=plan.draft,
        id=cut_id,
        created_at=now,
    )
    return cut, [*renders, stitcher]


def _render(
    request: VideoRequest,
    brief: Brief,
    plan: Plan,
    now: datetime,
    *,
    seconds: int,
    cut_id: str,
    shot: int | None,
) -> Render:
    # ``variant`` of a shot render is its take: 1 here, one more for each re-render of the shot.
    return Render(
        id=new_id("rnd"),
        request_id=request.id,
        brief_id=brief.id,
        brief_version=brief.version,
        provider=plan.provider,
        model=plan.model,
        seconds=seconds,
        size=plan.size,
        price_per_second=plan.price_per_second,
        quality=plan.quality,
        pinned=plan.pinned,
        cut_id=cut_id,
        shot=shot,
        created_at=now,
        updated_at=now,
    )


def fit_shots(brief: Brief, plan: Plan) -> Brief:
    """The brief with a shot list the plan can render: one shot per planned length, in order.

    Refiners are asked for these lengths; a model that answers with others (or another number
    of shots) is corrected here, so what the brief shows is what is rendered and paid for.
    """
    if not plan.is_cut or len(plan.shot_seconds) == 1:
        return brief  # a one-shot draft renders the whole brief as its one shot
    shots = tuple(shot for shot, _ in shot_lengths(brief, plan))
    return replace(brief, shots=shots, seconds=plan.seconds)


def shot_prompt(brief: Brief, index: int) -> str:
    """What one shot's job is asked to make: the shot, in the look of the whole brief."""
    shot = next((s for s in brief.shots if s.index == index), None)
    if shot is None:
        return brief.prompt
    look = ". ".join(
        part
        for part in (
            f"Camera: {shot.camera}" if shot.camera else "",
            f"Setting: {brief.setting}" if brief.setting else "",
            f"Style: {brief.style}" if brief.style else "",
            f"Lighting: {brief.lighting}" if brief.lighting else "",
        )
        if part
    )
    return f"{shot.description.rstrip('.')}. {look}." if look else shot.description
