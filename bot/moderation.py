"""Local policy rules as a :class:`~bot.ports.Moderator`, and a chain that asks several in turn."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.errors import ModerationUnavailable
from bot.policy import Policy
from bot.ports import ModerationResult, Moderator


class LocalRulesModerator:
    """Blocks configured terms and patterns; needs no network."""

    def __init__(self, policy: Policy) -> None:
        self._terms = tuple(t.lower() for t in policy.blocked_terms if t.strip())
        self._patterns = policy.blocked_patterns

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
        for pattern in self._patterns:
            if pattern.search(text):
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
            except Exception as exc:
                # Fail closed: a request is never rendered without the checks the operator configured.
                raise ModerationUnavailable(f"{type(moderator).__name__} failed: {exc}") from exc
            if not result.allowed:
                return result
        return ModerationResult(True)
