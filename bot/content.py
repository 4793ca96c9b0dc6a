"""Content checks: the workspace's own rules, the real-people rule, then the configured moderator.

What is checked is what the provider will receive: the ask, and for a brief the
whole composed prompt (prompt, negative prompt and every shot's text), so an
instruction hidden in a negative prompt is caught before it is rendered.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.domain import Brief, ReplyTarget
from bot.moderation import LocalRulesModerator, ModerationChain, PatternMatcher
from bot.people import RealPeopleModerator
from bot.policy import Policy
from bot.ports.llm import ModerationResult, Moderator


def provider_text(brief: Brief) -> str:
    """Everything of a brief that reaches a provider, as one text to check."""
    parts = [brief.prompt]
    if brief.negative_prompt.strip():
        parts.append(f"Avoid: {brief.negative_prompt.strip()}")
    parts.extend(shot.description for shot in brief.shots)
    if brief.explainer is not None:  # what the narrator will say is checked like any prompt
        parts.extend(line for line in brief.explainer.script if line.strip())
        if brief.explainer.translation is not None:
            parts.extend(line for line in brief.explainer.translation.lines if line.strip())
    return "\n".join(parts)


class ContentCheck:
    """Moderation for one workspace's rules; fails closed (raises ModerationUnavailable)."""

    def __init__(
        self,
        moderator: Moderator,
        policy_for: Callable[[ReplyTarget], Policy],
        patterns: PatternMatcher | None = None,
    ) -> None:
        self.moderator = moderator
        self.policy_for = policy_for
        self.patterns = patterns  # runs blocked_patterns with a time limit, off the event loop

    async def check(self, target: ReplyTarget, text: str) -> ModerationResult:
        policy = self.policy_for(target)
        rules = LocalRulesModerator(policy, self.patterns)
        chain = ModerationChain([rules, RealPeopleModerator(policy), self.moderator])
        return await chain.check(text)

    async def check_brief(self, target: ReplyTarget, brief: Brief) -> ModerationResult:
        return await self.check(target, provider_text(brief))
