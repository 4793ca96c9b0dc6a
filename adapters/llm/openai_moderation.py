"""OpenAI's moderation endpoint as a :class:`~bot.ports.Moderator`.

Unreachable or failing endpoints raise: whether to block, allow or fall back
to the local rules is the caller's decision, not this adapter's. An endpoint
that refuses clipdesk itself (404: it serves no /moderations, as a video-only
gateway does; 401/403: the key) raises :class:`ModerationMisconfigured`, which
names the setting to fix: that is not an outage and waiting will not end it.
"""

from __future__ import annotations

import openai
from openai import AsyncOpenAI

from bot.errors import ModerationMisconfigured
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
        try:
            response = await self._client.moderations.create(
                input=text, model=self._model, timeout=self._timeout
            )
        except (openai.NotFoundError, openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise misconfigured(exc, str(self._client.base_url), "moderations") from exc
        for result in response.results:
            if not result.flagged:
                continue
            flags = result.categories.model_dump(by_alias=True)
            scores = result.category_scores.model_dump(by_alias=True)
            flagged = [name for name, on in flags.items() if on]
            category = max(flagged, key=lambda name: float(scores.get(name) or 0.0), default="flagged")
            return ModerationResult(False, category, REASONS.get(category, DEFAULT_REASON), self.source)
        return ModerationResult(True, source=self.source)


def misconfigured(
    exc: openai.APIStatusError, base_url: str, route: str, instead: str = "CLIPDESK_MODERATION=local"
) -> ModerationMisconfigured:
    """Name the setting behind a 404/401/403 from the LLM endpoint at ``base_url`` on ``route``.

    Args:
        exc: the SDK's error.
        base_url: the endpoint's base URL.
        route: what was called, e.g. ``"moderations"``.
        instead: the setting that does without this endpoint.
    """
    if exc.status_code == 404:
        return ModerationMisconfigured(
            f"OPENAI_BASE_URL ({base_url}) answers 404 to /{route}: it serves no {route} endpoint. "
            f"Point OPENAI_BASE_URL at an endpoint that does, or set {instead} "
            "(a video-only gateway belongs in CLIPDESK_OPENAI_VIDEO_BASE_URL)",
            variable="OPENAI_BASE_URL",
        )
    return ModerationMisconfigured(
        f"OPENAI_API_KEY was refused by {base_url} ({exc.status_code}) on /{route}. "
        f"Set a key that may call it, or {instead}",
        variable="OPENAI_API_KEY",
    )
