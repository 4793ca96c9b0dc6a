"""The OpenAI prompt writer and moderation in the whole `/video` flow, against the fake OpenAI server.

Settings are production's with one key and one base URL: the refiner
("auto"), the moderator ("auto") and the video provider all use the same
fake, through the real ``openai`` SDK.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain import RequestStatus
from tests.e2e.paid_fakes import OpenAIFake, providers_for, running, settings_for
from tests.fakes.openai import FakeOpenAI, extract_request
from tests.support.harness import REQUESTER, Harness, make_harness

R = RequestStatus
OFFLINE_NOTICE = "ℹ️ The AI prompt writer is unavailable right now; I wrote the brief offline."


@pytest.fixture
async def openai(tmp_path: Path) -> AsyncIterator[OpenAIFake]:
    async with running("openai", tmp_path) as fake:
        assert isinstance(fake, OpenAIFake)
        yield fake


@pytest.fixture
async def h(openai: OpenAIFake, tmp_path: Path, sqlite_url: str) -> AsyncIterator[Harness]:
    overrides: dict[str, Any] = {**settings_for(openai), "refiner": "auto", "moderation": "auto"}
    harness = await make_harness(
        tmp_path, sqlite_url, providers=providers_for(tmp_path, sqlite_url, overrides), **overrides
    )
    yield harness
    await harness.close()


def overloaded(server: FakeOpenAI, route: str) -> None:
    """Every try the SDK makes on ``route`` gets a 503 (a short Retry-After keeps its retries quick)."""
    server.fail(
        route,
        503,
        times=5,
        code="service_unavailable",
        error_type="server_error",
        message="The engine is currently overloaded, please try again later.",
        retry_after=0.01,
    )


def chat_calls(server: FakeOpenAI) -> list[dict[str, object]]:
    return [c.body for c in server.calls_to("POST", "/v1/chat/completions")]


def brief_reply(prompt: str) -> dict[str, object]:
    return {
        "result": {
            "kind": "brief",
            "prompt": prompt,
            "subject": "a steel water bottle",
            "setting": "a sunlit kitchen counter",
            "style": "clean commercial",
            "lighting": "soft morning light",
            "camera": "slow push-in",
            "negative_prompt": "text overlays, logos",
            "seconds": 4,
            "aspect": "16:9",
            "shots": [
                {"description": "Wide shot of the counter", "camera": "static wide", "seconds": 2},
                {"description": "Close-up of condensation on the bottle", "camera": "macro", "seconds": 2},
            ],
        }
    }


async def test_video_gets_a_brief_written_by_the_openai_refiner_and_renders_it(
    h: Harness, openai: OpenAIFake
) -> None:
    openai.server.script_chat(brief_reply("A steel water bottle glistens on a sunlit kitchen counter."))
    request = await h.ask("a 4s product demo of our steel water bottle")
    assert request is not None
    brief = await h.app.store.requests.latest_brief(request.id)
    assert brief is not None and brief.refiner == "openai"
    assert "glistens on a sunlit kitchen counter" in brief.prompt
    assert brief.seconds == 4 and brief.aspect == "16:9"  # clipdesk's format, not the model's
    [sent] = chat_calls(openai.server)
    assert extract_request(sent)["text"] == "a 4s product demo of our steel water bottle"
    assert OFFLINE_NOTICE not in h.chat.texts()
    [brief_message] = [s.message for s in h.chat.of_kind("post") if s.message.text.startswith("📝 Brief")]
    assert "Refined by openai" in brief_message.context
    # The ask and the brief were both checked by OpenAI moderation before anything was spent.
    assert len(openai.server.calls_to("POST", "/v1/moderations")) == 2

    await h.run_until(request.id, [R.IN_REVIEW])
    [video] = openai.server.videos.values()
    assert "glistens on a sunlit kitchen counter" in video.prompt


async def test_with_the_llm_down_the_brief_is_written_offline_and_the_thread_says_so(
    h: Harness, openai: OpenAIFake
) -> None:
    overloaded(openai.server, "chat")
    request = await h.ask("a 4s product demo of our steel water bottle")
    assert request is not None
    assert len(chat_calls(openai.server)) >= 1  # the LLM was asked, and failed
    brief = await h.app.store.requests.latest_brief(request.id)
    assert brief is not None and brief.refiner == "offline"
    assert OFFLINE_NOTICE in h.chat.texts()
    notice = h.chat.texts().index(OFFLINE_NOTICE)
    assert h.chat.said[notice].target.thread == request.target.thread
    done = await h.run_until(request.id, [R.IN_REVIEW])  # the offline brief still renders
    assert done.status == R.IN_REVIEW and len(h.chat.of_kind("clip")) == 1


async def test_a_vague_ask_gets_the_llms_question_and_the_reply_refines_the_brief(
    h: Harness, openai: OpenAIFake
) -> None:
    openai.server.script_chat(
        {"result": {"kind": "question", "question": "Which product should the video show, and where?"}},
        brief_reply("A red kite climbs over green hills on a windy afternoon."),
    )
    request = await h.ask("make a video")
    assert request is not None and request.status == R.CLARIFYING
    assert "❓ Which product should the video show, and where?" in [s.message.text for s in h.chat.said]
    assert await h.app.store.requests.latest_brief(request.id) is None

    await h.reply(request, "a red kite over green hills")
    brief = await h.app.store.requests.latest_brief(request.id)
    assert brief is not None and brief.refiner == "openai" and "red kite" in brief.prompt
    first, second = chat_calls(openai.server)
    assert extract_request(first)["text"] == "make a video"
    assert "a red kite over green hills" in str(extract_request(second)["text"])
    moved = await h.app.store.requests.get_request(request.id)
    assert moved is not None and moved.status == R.QUEUED
    kinds = [e.kind.value for e in await h.app.store.audit.audit_events()]
    assert kinds.index("request.clarifying") < kinds.index("request.answered") < kinds.index("brief.created")


async def test_openai_moderation_blocks_the_ask_records_why_and_renders_nothing(
    h: Harness, openai: OpenAIFake
) -> None:
    openai.server.flag_words = {"gore": "violence/graphic"}
    await h.ask("a 4s clip full of gore in a dark alley")

    [blocked] = await h.app.store.requests.requests_in_status(R.BLOCKED)
    [event] = [e for e in await h.app.store.audit.audit_events() if e.kind == "request.blocked"]
    assert event.request_id == blocked.id
    assert event.data["category"] == "violence/graphic" and event.data["stage"] == "ask"
    assert await h.app.store.renders.renders_for(blocked.id) == []
    assert openai.server.videos == {} and chat_calls(openai.server) == []  # nothing written or rendered
    [told] = h.chat.notices_to(REQUESTER.user_id)
    assert "I can't make this video: it asks for graphic violence" in told


async def test_openai_moderation_blocks_a_brief_the_llm_wrote_before_it_is_rendered(
    h: Harness, openai: OpenAIFake
) -> None:
    openai.server.flag_words = {"gore": "violence/graphic"}
    openai.server.script_chat(brief_reply("A dark alley at night, gore on the walls."))
    await h.ask("a 4s moody clip of a dark alley at night")

    [request] = await h.app.store.requests.requests_in_status(R.BLOCKED)
    [event] = [e for e in await h.app.store.audit.audit_events() if e.kind == "request.blocked"]
    assert event.data["category"] == "violence/graphic" and event.data["stage"] == "brief"
    assert await h.app.store.requests.latest_brief(request.id) is None
    assert await h.app.store.renders.renders_for(request.id) == [] and openai.server.videos == {}
    assert any("I can't make this video: it asks for graphic violence" in t for t in h.chat.texts())


async def test_with_moderation_down_the_ask_is_kept_failed_and_nothing_is_refined_or_rendered(
    h: Harness, openai: OpenAIFake
) -> None:
    overloaded(openai.server, "moderations")
    request = await h.ask("a 4s product demo of our steel water bottle")
    # The ask was acknowledged, so it is kept (failed, with Retry) rather than lost.
    assert request is not None and request.status == RequestStatus.FAILED

    assert len(openai.server.calls_to("POST", "/v1/moderations")) >= 1
    [told] = h.chat.notices_to(REQUESTER.user_id)
    assert "Moderation is unavailable right now, so nothing was rendered" in told
    kinds = [e.kind.value for e in await h.app.store.audit.audit_events()]
    assert kinds == ["request.received", "request.failed"]  # no brief, no render
    assert h.chat.of_kind("parent") == [] and h.chat.of_kind("post") == []
    assert chat_calls(openai.server) == [] and openai.server.videos == {}


async def test_a_flagged_instruction_hidden_in_the_negative_prompt_is_blocked_before_the_provider(
    h: Harness, openai: OpenAIFake
) -> None:
    # The model's prompt is clean; what it smuggled into the negative prompt is not. The provider
    # would receive "Avoid: …; also render gore", so that is what gets checked.
    openai.server.flag_words = {"gore": "violence/graphic"}
    reply = brief_reply("A steel water bottle on a sunlit kitchen counter.")
    result = reply["result"]
    assert isinstance(result, dict)
    result["negative_prompt"] = "text overlays; also render gore on the bottle"
    openai.server.script_chat(reply)
    await h.ask("a 4s product demo of our steel water bottle")

    [request] = await h.app.store.requests.requests_in_status(R.BLOCKED)
    [event] = [e for e in await h.app.store.audit.audit_events() if e.kind == "request.blocked"]
    assert event.data["stage"] == "brief" and event.data["category"] == "violence/graphic"
    assert await h.app.store.renders.renders_for(request.id) == [] and openai.server.videos == {}
