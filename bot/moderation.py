"""Local policy rules as a :class:`~bot.ports.Moderator`, and a chain that asks several in turn.

Blocked patterns are the operator's regular expressions, and a regular
expression can take exponential time (``(a|aa)+$`` on a long run of ``a``).
The core keeps them as strings and leaves running them to a
:class:`PatternMatcher`: the adapter bounds every match in time and runs it
off the event loop, and vets each pattern when the policy is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from bot.errors import ModerationMisconfigured, ModerationUnavailable
from bot.policy import Policy
from bot.ports import ModerationResult, Moderator


class PatternTimeout(Exception):
    """A pattern ran out of time on a text; the text could not be checked against it."""

    def __init__(self, pattern: str) -> None:
        super().__init__(f"the pattern {pattern!r} ran out of time")
        self.pattern = pattern


class PatternMatcher(Protocol):
    """Runs a workspace's blocked patterns (case-insensitive), each within a time limit."""

    def vet(self, pattern: str) -> str | None:
        """Why ``pattern`` cannot be used (bad syntax, too slow on adversarial text), or ``None``.

        Called while the policy is loaded, before anything is served; may block briefly.
        """
        ...

    async def first_match(self, patterns: Sequence[str], text: str) -> str | None:
        """The first of ``patterns`` found in ``text``, or ``None``, without blocking the event loop.

        Raises:
            PatternTimeout: A pattern did not finish in time on ``text``.
        """
        ...


class LocalRulesModerator:
    """Blocks configured terms and patterns; needs no network.

    Args:
        policy: The workspace's rules.
        patterns: Runs ``policy.blocked_patterns``; without one, a policy that has patterns fails closed.
    """

    def __init__(self, policy: Policy, patterns: PatternMatcher | None = None) -> None:
        self._terms = tuple(t.lower() for t in policy.blocked_terms if t.strip())
        self._patterns = policy.blocked_patterns
        self._matcher = patterns

    async def check(self, text: str) -> ModerationResult:
        lowered = text.lower()
        for term in self._terms:
            if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", lowered):
                return ModerationResult(
                    False,
                    "blocked_term",
                    f"it mentions “{term}”, which this workspace does not allow",
                    "policy",
                )
        if not self._patterns:
            return ModerationResult(True, source="policy")
        if self._matcher is None:
            raise ModerationUnavailable("blocked_patterns are configured but no pattern matcher is wired")
        try:
            matched = await self._matcher.first_match(self._patterns, text)
        except PatternTimeout:
            # Fail closed: a text the rules could not finish checking is not rendered.
            return ModerationResult(
                False,
                "blocked_pattern",
                "it could not be checked against this workspace's rules in time; "
                "shorten it, or ask an admin to simplify `blocked_patterns`",
                "policy",
            )
        if matched is not None:
            return ModerationResult(
                False, "blocked_pattern", "it matches a rule this workspace does not allow", "policy"
            )
        return ModerationResult(True, source="policy")


class ModerationChain:
    """Asks each moderator in order; the first refusal wins."""

    def __init__(self, moderators: Sequence[Moderator]) -> None:
        self._moderators = list(moderators)

    async def check(self, text: str) -> ModerationResult:
        for moderator in self._moderators:
            try:
                result = await moderator.check(text)
            except ModerationMisconfigured:
                raise  # not an outage: an operator must fix a setting, and the message names it
            except Exception as exc:
                # Fail closed: a request is never rendered without the checks the operator configured.
                raise ModerationUnavailable(f"{type(moderator).__name__} failed: {exc}") from exc
            if not result.allowed:
                return result
        return ModerationResult(True)
