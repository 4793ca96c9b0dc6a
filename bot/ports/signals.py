"""Being told that work was committed elsewhere: renders queued, outbox entries written.

The worker and the deliverer poll on a tick as a safety net; a :class:`WorkSignals`
wakes them the moment another process (or this one) commits work, so an idle
worker starts a render in milliseconds instead of up to a tick later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# What changed: "renders" (renders were queued), "outbox:<sink>:<route>" (entries for that sink
# and route were written) or "outbox" (some entries, whichever: wake every deliverer).
Topics = frozenset[str]
RENDERS = "renders"
OUTBOX = "outbox"
ALL_TOPICS: Topics = frozenset({RENDERS, OUTBOX})


def outbox_topic(sink: str, route: str) -> str:
    return f"{OUTBOX}:{sink}:{route}"


def outbox_targets(topics: Topics) -> list[tuple[str, str]] | None:
    """``(sink, route)`` the topics name; ``None`` when one of them says "any outbox entry"."""
    targets: list[tuple[str, str]] = []
    for topic in topics:
        if topic == OUTBOX:
            return None
        if topic.startswith(OUTBOX + ":"):
            sink, _, route = topic[len(OUTBOX) + 1 :].partition(":")
            targets.append((sink, route))
    return targets


class WorkSignals(Protocol):
    """A feed of "work was committed" signals; :meth:`listen` runs until cancelled."""

    async def listen(self, wake: Callable[[Topics], None]) -> None:
        """Call ``wake(topics)`` for every signal; also once with every topic after (re)connecting,
        since signals sent while disconnected are lost."""
        ...
