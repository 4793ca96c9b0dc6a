"""Blocked patterns run with the ``regex`` package's time limit, in a worker thread.

The standard library's ``re`` cannot be interrupted and holds the GIL while it
backtracks, so one pattern like ``(a|aa)+$`` on a long ask stalls the whole
process. ``regex`` takes a ``timeout`` and releases the GIL while matching a
``str``, so a match runs in a thread, the event loop keeps serving, and a slow
match ends with :class:`~bot.moderation.PatternTimeout` (the core then refuses
the ask: fail closed).

At start-up every pattern is also *vetted*: compiled, then run on adversarial
texts (long runs of the characters it names, ending in a character it cannot
match) under the same kind of limit; one that runs out of time there stops
start-up with the file's line. Patterns are case-insensitive, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import regex

from bot.moderation import PatternTimeout

MATCH_SECONDS = 0.1
VET_SECONDS = 0.05
PROBE_LENGTH = 2000  # asks are capped around this length
_BASE_ALPHABET = "a1 ._-"
_MAX_ALPHABET = 16
_FLAGS = regex.IGNORECASE | regex.VERSION0


def _probes(pattern: str) -> list[str]:
    """Texts that make a backtracking pattern blow up: long runs of its own characters, then a misfit."""
    named = [c for c in dict.fromkeys(pattern.lower()) if c.isalnum()]
    alphabet = list(dict.fromkeys([*_BASE_ALPHABET, *named]))[:_MAX_ALPHABET]
    probes = [c * PROBE_LENGTH + "\x00" for c in alphabet]
    probes.append(("word " * (PROBE_LENGTH // 5)) + "\x00")
    probes.append(("ab" * (PROBE_LENGTH // 2)) + "\x00")
    return probes


class RegexPatternMatcher:
    """The :class:`~bot.moderation.PatternMatcher` on ``regex`` with a per-match time limit.

    Args:
        match_seconds: The limit for one pattern on one text.
        vet_seconds: The limit for one pattern on one adversarial probe at start-up.
    """

    def __init__(self, *, match_seconds: float = MATCH_SECONDS, vet_seconds: float = VET_SECONDS) -> None:
        self.match_seconds = match_seconds
        self.vet_seconds = vet_seconds
        self._compiled: dict[str, regex.Pattern[str]] = {}

    def vet(self, pattern: str) -> str | None:
        """Why ``pattern`` is refused, or ``None``; runs at start-up, blocking for at most a second or so."""
        try:
            compiled = self._compile(pattern)
        except regex.error as exc:
            return f"not a regular expression ({exc})"
        for probe in _probes(pattern):
            try:
                compiled.search(probe, timeout=self.vet_seconds)
            except TimeoutError:
                return (
                    f"it takes over {self.vet_seconds:g} s on a {len(probe)}-character text "
                    "(catastrophic backtracking); rewrite it without nested or overlapping repeats"
                )
        return None

    async def first_match(self, patterns: Sequence[str], text: str) -> str | None:
        """The first of ``patterns`` found in ``text``, matched in a worker thread."""
        return await asyncio.to_thread(self._first_match, tuple(patterns), text)

    def _first_match(self, patterns: tuple[str, ...], text: str) -> str | None:
        for pattern in patterns:
            try:
                if self._compile(pattern).search(text, timeout=self.match_seconds):
                    return pattern
            except TimeoutError:
                raise PatternTimeout(pattern) from None
        return None

    def _compile(self, pattern: str) -> regex.Pattern[str]:
        compiled = self._compiled.get(pattern)
        if compiled is None:
            compiled = regex.compile(pattern, _FLAGS)
            # One entry per pattern in the policy file: a fixed, operator-written set.
            self._compiled[pattern] = compiled
        return compiled
