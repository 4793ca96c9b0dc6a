"""OpenAI's moderation endpoint as a :class:`~bot.ports.Moderator`.

Unreachable or failing endpoints raise: whether to block, allow or fall back
to the local rules is the caller's decision, not this adapter's.
"""

from __future__ import annotations

from openai import AsyncOpenAI

from bot.ports import ModerationResult

# Each reason completes "I can't make this video: …".
REASONS: dict[str, str] = {
    "harassment": "it reads as harassment of someone",
    "harassment/threatening": "it reads as a threat against someone",
    "hate": "it reads as hateful toward a group of people",
    "hate/threatening": "it reads as a threat against a group of people",
    "illicit": "it asks for help with something illegal",
    "illicit/violent": "it asks for help with violence or weapons",
    "self-harm": "it touches on self-harm",
    "self-harm/intent": "it touches on self-harm",
    "self-harm/instructions": "it touches on self-harm",
    "sexual": "it asks for sexual content",
    "sexual/minors": "it asks for sexual content involving minors",
    "violence": "it asks for violent content",
    "violence/graphic": "it asks for graphic violence",
}
DEFAULT_REASON = "the moderation service flagged it"


class OpenAIModerator:
    """Checks text with ``POST /v1/moderations``; a flagged result names its strongest category."""

    source = "openai"

    def __init__(
        self, client: AsyncOpenAI, model: str = "omni-moderation-latest", *, timeout: float = 15.0
    ) -> None:
        self._client = client
        self._model = model
        self._timeout = timeout

    async def check(self, text: str) -> ModerationResult:
        if not text.strip():
            return ModerationResult(True, source=self.source)
        response = await self._client.moderations.create(input=text, model=self._model, timeout=self._timeout)
        for result in response.results:
            if not result.flagged:
                continue
            flags = result.categories.model_dump(by_alias=True)
            scores = result.category_scores.model_dump(by_alias=True)
            flagged = [name for name, on in flags.items() if on]
            category = max(flagged, key=lambda name: float(scores.get(name) or 0.0), default="flagged")
            return ModerationResult(False, category, REASONS.get(category, DEFAULT_REASON), self.source)
        return ModerationResult(True, source=self.source)
