"""One retry policy value: how many attempts, how long between them, and which errors are worth it.

Renders and outbox deliveries both retry through a :class:`RetryPolicy`, so
"what happens when something fails" is said once per kind of work, never as
loose numbers spread over the code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts, waits and the errors that earn another try.

    Waits grow exponentially from ``base`` to ``cap`` with jitter (``jitter`` is the random
    share of each step: 0.5 is "equal jitter", never back at once yet spread out), unless an
    explicit ``schedule`` of waits is given (e.g. outgoing webhooks). A server's ``Retry-After``
    is a floor, never shortened.
    """

    attempts: int = 5
    base: float = 2.0
    cap: float = 300.0
    jitter: float = 0.5
    schedule: tuple[float, ...] = ()
    retry_on: tuple[type[BaseException], ...] = (Exception,)
    never: tuple[type[BaseException], ...] = ()

    def retries(self, error: BaseException) -> bool:
        """Whether ``error`` earns another attempt at all (attempts aside)."""
        return isinstance(error, self.retry_on) and not isinstance(error, self.never)

    def exhausted(self, attempts: int) -> bool:
        """Whether ``attempts`` failed tries use up the policy."""
        return attempts >= self.attempts

    def delay(
        self, attempt: int, *, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before try number ``attempt + 1`` (``attempt`` counts from 1)."""
        if self.schedule:
            step = self.schedule[min(max(attempt - 1, 0), len(self.schedule) - 1)]
            delay = step
        else:
            rng = rng or random.Random()
            step = min(self.cap, self.base * 2.0 ** max(attempt - 1, 0))
            delay = step * (1 - self.jitter) + rng.uniform(0, step * self.jitter)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return float(delay)


def backoff_delay(
    attempt: int,
    *,
    base: float = 2.0,
    cap: float = 300.0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """The default policy's wait before try ``attempt + 1`` (kept for callers that have no policy)."""
    return RetryPolicy(base=base, cap=cap).delay(attempt, retry_after=retry_after, rng=rng)
