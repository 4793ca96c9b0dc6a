"""Being told that work was committed elsewhere: renders queued, outbox entries written.

The worker and the deliverer poll on a tick as a safety net; a :class:`WorkSignals`
wakes them the moment another process (or this one) commits work, so an idle
worker starts a render in milliseconds instead of up to a tick later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# What changed: a subset of {"renders", "outbox"}.
Topics = frozenset[str]
RENDERS = "renders"
OUTBOX = "outbox"
ALL_TOPICS: Topics = frozenset({RENDERS, OUTBOX})


class WorkSignals(Protocol):
    """A feed of "work was committed" signals; :meth:`listen` runs until cancelled."""

    async def listen(self, wake: Callable[[Topics], None]) -> None:
        """Call ``wake(topics)`` for every signal; also once with every topic after (re)connecting,
        since signals sent while disconnected are lost."""
        ...
