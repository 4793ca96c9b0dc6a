"""Finding the job an ambiguous create may have made, for adapters whose API can list jobs.

A provider that lists jobs without echoing our idempotency key can only be matched
on what we sent (model, prompt, length, size, seed) and on when the job was created.
The match is exact only when it is unique: if two jobs fit (two variants of one
brief submitted together, say) the adapter cannot tell which is ours and says so
with :class:`ReconcileUnsupported`, so the core marks the render uncertain instead
of adopting another render's job.

``since`` bounds the search: jobs created before the intent to submit cannot be
ours (an earlier, failed attempt of the same render has the same inputs). The
core knows that instant (it records the intent before calling ``submit``) and may
pass it; otherwise the adapter uses the instant it recorded itself before sending
the create (same process), or a look-back window (a restarted process).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from bot.errors import ReconcileUnsupported

# How far back to look when neither the core nor this process knows when the create was sent.
LOOKBACK_SECONDS = 3600.0
# Provider clocks differ from ours; a job stamped this much before our intent may still be ours.
CLOCK_SKEW_SECONDS = 5.0


class IntentLog:
    """When this process last decided to create a job for each idempotency key."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}

    def mark(self, key: str) -> None:
        """Record the intent just before the create goes out."""
        if key:
            self._at[key] = time.time()

    def since(self, key: str, given: datetime | None) -> float:
        """The earliest creation time (epoch seconds) a job made for ``key`` can have."""
        if given is not None:
            return given.timestamp() - CLOCK_SKEW_SECONDS
        if key in self._at:
            return self._at[key] - CLOCK_SKEW_SECONDS
        return time.time() - LOOKBACK_SECONDS


def single_match(provider: str, matches: Sequence[str]) -> str | None:
    """The one job that fits, ``None`` when none does, or a refusal to guess between several."""
    if not matches:
        return None
    if len(set(matches)) == 1:
        return matches[0]
    raise ReconcileUnsupported(
        f"{provider}: {len(set(matches))} jobs match this render ({', '.join(sorted(set(matches)))}); "
        "cannot tell which one the uncertain submit made",
        provider=provider,
    )
