"""Per-token rate limits: a token bucket per token in this process (429 with ``Retry-After``).

Each replica counts its own calls; with N replicas behind a balancer a token may
make up to N times the rate, which is the usual trade for not needing a shared
counter (README "REST API, webhooks and review page").
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """``per_minute`` calls a minute per key, in bursts of up to ``burst``."""

    def __init__(
        self, per_minute: float, burst: int | None = None, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, int(per_minute)))
        self._now = now
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float | None:
        """Spend one call; ``None`` if allowed, else the seconds until the next call is."""
        now = self._now()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        if self.rate <= 0:
            return 60.0
        return (1.0 - bucket.tokens) / self.rate

    @staticmethod
    def retry_after(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))
