"""The OpenAI refiner writes an explainer's script through structured output, keeps it to the
time its shots give it (shortening once, then trimming or asking), and translates it for captions."""

from __future__ import annotations

import json
from typing import Any

from openai import AsyncOpenAI

from adapters.llm.openai_refiner import OpenAIRefiner
from bot.domain import Brief
from bot.explainers import pacing
from bot.ports import Clarification, RefineInput, ScriptTranslator
from tests.fakes.openai import EXPLAINER_LINES, FakeOpenAI, default_reply, extract_request

ASK = "explain laminar vs turbulent flow"


def explainer_ask(seconds: int = 12, audience: str | None = "age 14") -> RefineInput:
    return RefineInput("req_1", 1, ASK, seconds, "16:9", explainer=True, audience=audience)


def long_script(body: dict[str, Any]) -> dict[str, Any]:
    """The model's first answer: far more narration than its shots can hold."""
    reply = default_reply(body)
    for shot in reply["result"]["shots"]:
        shot["narration"] = "In this part we will look very closely at the many ways water can move " * 2
    return reply


async def test_the_refiner_writes_a_script_per_shot_with_key_terms_and_a_goal(
    fake_openai: FakeOpenAI, openai_client: AsyncOpenAI
) -> None:
    brief = await OpenAIRefiner(openai_client, "gpt-4.1-mini").refine(explainer_ask())

    assert isinstance(brief, Brief) and brief.explainer is not None
    assert brief.explainer.script == EXPLAINER_LINES
    assert brief.explainer.key_terms == ("laminar flow", "turbulent flow")
    assert brief.explainer.goal.startswith("Tell smooth")
    assert brief.explainer.audience == "age 14" and not brief.explainer.outline_only
    assert pacing(brief.explainer.script, [s.seconds for s in brief.shots]).fits
    [call] = fake_openai.calls_to("POST", "/v1/chat/completions")
    system = " ".join(m["content"] for m in call.body["messages"] if m["role"] == "system")
    assert "explainer for age 14" in system and "at most 8 words" in system  # a 4 s shot's budget
    assert extract_request(call.body)["explainer"] is True
    schema = json.dumps(call.body["response_format"])
    assert all(name in schema for name in ("narration", "key_terms", "learning_goal", "script_language"))


async def test_a_script_too_long_for_its_shots_is_rewritten_once_with_word_budgets(
    fake_openai: FakeOpenAI, openai_client: AsyncOpenAI
) -> None:
    fake_openai.script_chat(long_script, default_reply)

    brief = await OpenAIRefiner(openai_client, "gpt-4.1-mini").refine(explainer_ask())

    assert isinstance(brief, Brief) and brief.explainer is not None
    assert brief.explainer.script == EXPLAINER_LINES and brief.explainer.shortened == ()
    _, second = fake_openai.calls_to("POST", "/v1/chat/completions")
    retry = [m["content"] for m in second.body["messages"] if m["role"] == "system"][-1]
    assert retry.startswith("Your last script was too long") and "shot 1: " in retry


async def test_a_script_still_far_too_long_is_a_question_for_the_requester(
    fake_openai: FakeOpenAI, openai_client: AsyncOpenAI
) -> None:
    fake_openai.script_chat(long_script, long_script)

    result = await OpenAIRefiner(openai_client, "gpt-4.1-mini").refine(explainer_ask())

    assert isinstance(result, Clarification)
    assert "but the clip is 12 s" in result.question and "--seconds" in result.question


async def test_a_script_a_little_too_long_is_trimmed_at_word_ends_and_says_so(
    fake_openai: FakeOpenAI, openai_client: AsyncOpenAI
) -> None:
    def slightly_long(body: dict[str, Any]) -> dict[str, Any]:
        reply = default_reply(body)
        reply["result"]["shots"][0]["narration"] = (
            "Laminar flow moves in smooth layers, slowly and calmly there."
        )
        return reply

    fake_openai.script_chat(slightly_long, slightly_long)
    brief = await OpenAIRefiner(openai_client, "gpt-4.1-mini").refine(explainer_ask())

    assert isinstance(brief, Brief) and brief.explainer is not None
    assert brief.explainer.shortened == (1,)
    first = brief.explainer.script[0]
    long_line = "Laminar flow moves in smooth layers, slowly and calmly there."
    assert first.endswith("…") and long_line.startswith(first.rstrip("…"))  # whole words only
    assert pacing(brief.explainer.script, [s.seconds for s in brief.shots]).fits


async def test_a_plain_ask_gets_no_script(openai_client: AsyncOpenAI) -> None:
    brief = await OpenAIRefiner(openai_client, "gpt-4.1-mini").refine(
        RefineInput("req_1", 1, "a product demo of our bottle", 8, "16:9")
    )
    assert isinstance(brief, Brief) and brief.explainer is None


async def test_the_script_is_translated_line_for_line_through_structured_output(
    fake_openai: FakeOpenAI, openai_client: AsyncOpenAI
) -> None:
    refiner = OpenAIRefiner(openai_client, "gpt-4.1-mini")
    assert isinstance(refiner, ScriptTranslator)

    lines = await refiner.translate(("Laminar flow <b>is</b> smooth.", ""), source="en", target="es")

    assert lines == ("[es] Laminar flow <b>is</b> smooth.", "")
    [call] = fake_openai.calls_to("POST", "/v1/chat/completions")
    assert "into es" in call.body["messages"][0]["content"]
    assert "<b>" not in call.body["messages"][1]["content"]  # the lines cannot close their block
    assert call.body["response_format"]["json_schema"]["name"] == "TranslationReply"
