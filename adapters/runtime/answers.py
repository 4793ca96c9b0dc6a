"""Answers before work that can wait: a platform's acknowledgements go out first in a burst.

Everything in ``serve`` shares one event loop (and, on SQLite, one writer). With
200 commands arriving at once, the work behind the first answers (refining,
queuing renders) and the outbox's thread posts used to run between the later
commands' answers and push them late. While any command is being answered,
that work waits until every answer in flight is out, for at most
``HOLD_SECONDS``, so a steady stream of commands cannot starve it. Discord's
interactions and Slack's HTTP requests both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

# The longest that work which can wait waits for answers in flight (Discord's bound is 3 s).
HOLD_SECONDS = 1.0


class AnswersFirst:
    """Counts interactions being answered; work that can wait waits until there are none."""

    def __init__(self, hold: float = HOLD_SECONDS) -> None:
        self.hold = hold
        self._answering = 0
        self._waiting = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def answering(self) -> int:
        return self._answering

    @property
    def waiting(self) -> int:
        """Pieces of work held back right now."""
        return self._waiting

    @contextlib.contextmanager
    def answer(self) -> Iterator[None]:
        """Around the code that answers one interaction, from its arrival to its first response."""
        self._answering += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._answering -= 1
            if not self._answering:
                self._idle.set()

    async def wait(self) -> None:
        """Return once no interaction is being answered, or after ``hold`` seconds at most."""
        if self._idle.is_set():
            return
        self._waiting += 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), self.hold)
        finally:
            self._waiting -= 1
