"""Build the OpenAI refiner and moderator from settings."""

from __future__ import annotations

from openai import AsyncOpenAI

from adapters.llm.openai_moderation import OpenAIModerator
from adapters.llm.openai_refiner import OpenAIRefiner
from adapters.runtime.settings import Settings


def llm_client(settings: Settings) -> AsyncOpenAI:
    # The LLM endpoint is OpenAI's own (or OPENAI_BASE_URL's): chat and moderation are still served.
    return AsyncOpenAI(api_key=settings.openai_api_key, base_url=settings.openai_base_url, max_retries=2)


def openai_refiner(settings: Settings) -> OpenAIRefiner:
    return OpenAIRefiner(llm_client(settings), settings.refiner_model)


def openai_moderator(settings: Settings) -> OpenAIModerator:
    return OpenAIModerator(llm_client(settings), settings.moderation_model)
