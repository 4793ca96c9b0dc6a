"""One short log line per refused request, and never the body.

An unauthenticated caller decides how many requests arrive, so what a refusal
costs in the log must not grow with what they send: each line names the
route, the client and the reason (clipped), nothing the caller wrote. Past a
burst the lines are rate-limited and the rest only counted, so a flood writes
a bounded trickle instead of a copy of itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("clipdesk.web")

REASON_MAX = 120
BURST = 20
PER_SECOND = 1.0


class RefusalLog:
    """Logs refused requests as single lines, ``burst`` at once and then ``per_second``.

    Args:
        logger: Where the lines go.
        burst: Lines allowed back to back.
        per_second: Lines regained per second after a burst.
        clock: Monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        logger: logging.Logger = log,
        *,
        burst: int = BURST,
        per_second: float = PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._burst = float(burst)
        self._per_second = per_second
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._suppressed = 0

    def refused(self, method: str, path: str, client: str | None, status: int, reason: str) -> None:
        """Record that ``method path`` from ``client`` was answered ``status`` because of ``reason``."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._per_second)
        self._last = now
        if self._tokens < 1:
            self._suppressed += 1
            return
        self._tokens -= 1
        reason = " ".join(reason.split())
        if len(reason) > REASON_MAX:
            reason = reason[: REASON_MAX - 1] + "…"
        more = f" ({self._suppressed} more refusals not logged)" if self._suppressed else ""
        self._suppressed = 0
        # The path is the route's own (never a query string): a caller cannot grow this line.
        self._log.warning(
            "refused %s %s from %s: %d %s%s", method, path[:100], client or "?", status, reason, more
        )


def refusals_of(web_app: Any) -> RefusalLog:
    """The refusal log of a web app made by ``adapters.web.app.create_web_app`` (shared by its routes)."""
    refusals = getattr(web_app.state, "refusals", None)
    if not isinstance(refusals, RefusalLog):
        raise TypeError("the web app was not made by create_web_app")
    return refusals
