"""Remember signed deliveries for as long as their signature is accepted, to drop replays.

A Standard Webhooks signature covers ``webhook-id``, ``webhook-timestamp`` and
the body, and is accepted for 5 minutes either side of its timestamp. Within
that window a captured delivery can be sent again verbatim and still verify;
this cache answers such a repeat without acting on it. After the window the
signature check itself refuses it, so entries expire then.

The cache is per process: replicas behind one load balancer each remember
what they saw, so a replay can still reach each replica once. That is
harmless here (a delivery only nudges the worker to poll; the provider's
status stays the source of truth), and it keeps the web app free of shared
state.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

WINDOW_SECONDS = 300
MAX_ENTRIES = 50_000


class ReplayGuard:
    """A bounded TTL set of delivery ids.

    Args:
        window_seconds: The signature tolerance; an id is remembered until its timestamp plus this.
        max_entries: The bound; past it the entries closest to expiry are forgotten first.
        clock: Seconds since the epoch (tests pass their own).
    """

    def __init__(
        self,
        window_seconds: float = WINDOW_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.window_seconds = window_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def claim(self, delivery_id: str, sent_at: float) -> bool:
        """``True`` the first time ``delivery_id`` is seen in its window, ``False`` for a repeat."""
        now = self._clock()
        self._forget_expired(now)
        if delivery_id in self._seen:
            return False
        self._seen[delivery_id] = max(sent_at, now) + self.window_seconds
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
        return True

    def release(self, delivery_id: str) -> None:
        """Forget a claimed id whose handling failed, so the sender's retry is acted on."""
        self._seen.pop(delivery_id, None)

    def _forget_expired(self, now: float) -> None:
        # Entries arrive in roughly time order, so expired ones cluster at the front.
        while self._seen:
            delivery_id, expires = next(iter(self._seen.items()))
            if expires > now:
                return
            del self._seen[delivery_id]
