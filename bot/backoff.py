"""Exponential back-off with jitter, so retrying replicas do not stampede a provider together."""

from __future__ import annotations

import random


def backoff_delay(
    attempt: int,
    *,
    base: float = 2.0,
    cap: float = 300.0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before try number ``attempt + 1`` (``attempt`` counts from 1).

    "Equal jitter": half the exponential step is fixed, half is random, so a
    retry never comes back immediately yet replicas spread out. A provider's
    ``Retry-After`` is a floor, never shortened.
    """
    rng = rng or random.Random()
    step = min(cap, base * 2.0 ** max(attempt - 1, 0))
    delay = step / 2 + rng.uniform(0, step / 2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return float(delay)


def poll_interval(polls: int, *, start: float = 2.0, cap: float = 20.0, hint: float | None = None) -> float:
    """Seconds until the next status poll: from ``start`` growing to ``cap``, never before the hint."""
    grown = float(min(cap, start * 1.5**polls))
    if hint is not None and hint > 0:
        # The hint is a floor ("not before"), never a reason to poll faster than our own back-off.
        return min(max(hint, grown), cap * 3)
    return grown
