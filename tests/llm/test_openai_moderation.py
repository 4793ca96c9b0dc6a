"""OpenAI moderation through the real SDK against the fake's ``/v1/moderations``."""

from __future__ import annotations

import openai
import pytest
from openai import AsyncOpenAI

from adapters.llm.openai_moderation import REASONS, OpenAIModerator
from bot.ports import ModerationResult, Moderator
from tests.fakes.openai import FakeOpenAI


@pytest.fixture
def moderator(openai_client: AsyncOpenAI) -> OpenAIModerator:
    return OpenAIModerator(openai_client)


async def test_clean_text_is_allowed(moderator: OpenAIModerator, fake_openai: FakeOpenAI) -> None:
    assert isinstance(moderator, Moderator)
    fake_openai.flag_words = {"gore": "violence/graphic"}
    result = await moderator.check("a 12s product demo of our steel water bottle")
    assert result == ModerationResult(True, source="openai")
    [call] = fake_openai.calls_to("POST", "/v1/moderations")
    assert call.body == {
        "input": "a 12s product demo of our steel water bottle",
        "model": "omni-moderation-latest",
    }


async def test_flagged_text_is_blocked_with_its_category_and_a_friendly_reason(
    moderator: OpenAIModerator, fake_openai: FakeOpenAI
) -> None:
    fake_openai.flag_words = {"gore": "violence/graphic"}
    result = await moderator.check("a horror trailer full of GORE")
    assert result == ModerationResult(False, "violence/graphic", REASONS["violence/graphic"], "openai")
    assert result.reason == "it asks for graphic violence"


async def test_the_strongest_flagged_category_is_reported(
    moderator: OpenAIModerator, fake_openai: FakeOpenAI
) -> None:
    fake_openai.flag_words = {"fight": "violence", "insult": "harassment"}
    fake_openai.moderation_scores = {"violence": 0.55, "harassment": 0.97}
    result = await moderator.check("a fight where they insult each other")
    assert (result.allowed, result.category) == (False, "harassment")


async def test_configured_model_is_sent(openai_client: AsyncOpenAI, fake_openai: FakeOpenAI) -> None:
    await OpenAIModerator(openai_client, model="omni-moderation-2024-09-26").check("a cat")
    [call] = fake_openai.calls_to("POST", "/v1/moderations")
    assert call.body["model"] == "omni-moderation-2024-09-26"


async def test_blank_text_is_allowed_without_a_call(
    moderator: OpenAIModerator, fake_openai: FakeOpenAI
) -> None:
    assert (await moderator.check("   ")).allowed
    assert fake_openai.calls == []


async def test_unreachable_endpoint_raises_for_the_caller_to_decide(
    moderator: OpenAIModerator, fake_openai: FakeOpenAI
) -> None:
    await fake_openai.close()
    with pytest.raises(openai.APIConnectionError):
        await moderator.check("a cat")


async def test_server_error_raises(moderator: OpenAIModerator, fake_openai: FakeOpenAI) -> None:
    fake_openai.server_error(route="moderations")
    with pytest.raises(openai.InternalServerError):
        await moderator.check("a cat")
