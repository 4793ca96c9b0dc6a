"""The offline refiner writes a sensible, repeatable brief."""

from __future__ import annotations

import pytest

from bot.ports import Clarification, RefineInput
from bot.refiner import OfflineRefiner


def refine(text: str, seconds: int = 12, aspect: str = "9:16", **kw: object):  # type: ignore[no-untyped-def]
    return OfflineRefiner().refine_now(RefineInput("req_1", 1, text, seconds, aspect, **kw))  # type: ignore[arg-type]


def test_product_demo_brief_has_one_shot_per_four_seconds_summing_to_the_length() -> None:
    brief = refine("a 12s product demo of our steel water bottle on a kitchen counter, vertical")
    assert len(brief.shots) == 3
    assert sum(s.seconds for s in brief.shots) == pytest.approx(12)
    assert "steel water bottle" in brief.subject
    assert brief.setting == "a bright modern kitchen"
    assert "commercial" in brief.style
    assert "vertical 9:16" in brief.prompt and brief.negative_prompt
    assert all(s.camera for s in brief.shots)
    assert "12s" not in brief.subject and "vertical" not in brief.subject


def test_explainer_is_recognised() -> None:
    brief = refine("an explainer of laminar vs turbulent flow", seconds=8, aspect="16:9")
    assert "educational" in brief.style and len(brief.shots) == 2
    assert "widescreen 16:9" in brief.prompt


@pytest.mark.parametrize("seconds", [4, 6, 8, 10, 12, 16, 20])
def test_shot_lengths_always_add_up(seconds: int) -> None:
    brief = refine("a fox running through snow", seconds=seconds)
    assert sum(s.seconds for s in brief.shots) == pytest.approx(seconds)
    assert len(brief.shots) == max(1, round(seconds / 4))


def test_same_words_same_brief() -> None:
    assert refine("a lighthouse at dusk").prompt == refine("a lighthouse at dusk").prompt
    assert refine("a lighthouse at dusk").digest == refine("a lighthouse at dusk").digest


def test_vague_ask_gets_a_question() -> None:
    assert isinstance(refine("make a video"), Clarification)
    assert isinstance(refine("something cool please"), Clarification)


def test_instruction_is_folded_into_the_next_version() -> None:
    brief = refine("a fox in snow", instruction="make it night time")
    assert "night time" in brief.prompt and brief.note == "make it night time"


def test_prompt_respects_the_provider_limit() -> None:
    brief = refine("a fox " * 300, max_prompt_chars=500)
    assert len(brief.prompt) <= 500
