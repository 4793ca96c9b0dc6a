"""How often to poll a provider: growing waits, a provider's hint as a floor (retries: :mod:`bot.retry`)."""

from __future__ import annotations


def poll_interval(polls: int, *, start: float = 2.0, cap: float = 20.0, hint: float | None = None) -> float:
    """Seconds until the next status poll: from ``start`` growing to ``cap``, never before the hint."""
    grown = float(min(cap, start * 1.5**polls))
    if hint is not None and hint > 0:
        # The hint is a floor ("not before"), never a reason to poll faster than our own back-off.
        return min(max(hint, grown), cap * 3)
    return grown
