"""Explainer briefs: intent, pacing, honest offline outlines, options and the Edit script form."""

from __future__ import annotations

import re

import pytest

from bot.domain import Brief, RequestOptions
from bot.errors import InvalidOptions
from bot.explainers import (
    Explainer,
    Translation,
    is_explainer_ask,
    pacing,
    script_form_text,
    script_lines_from_form,
    shorten,
    speaking_seconds,
    word_budget,
)
from bot.options import parse_ask
from bot.ports import RefineInput
from bot.refiner import OfflineRefiner, key_terms


def offline(text: str, seconds: int = 30, **kwargs: object) -> Brief:
    brief = OfflineRefiner().refine_now(RefineInput("req_1", 1, text, seconds, "16:9", **kwargs))  # type: ignore[arg-type]
    assert isinstance(brief, Brief)
    return brief


@pytest.mark.parametrize(
    "text",
    [
        "explain laminar vs turbulent flow",
        "Can you explain photosynthesis",
        "teach me fractions",
        "Explain: tides",
    ],
)
def test_asks_that_open_with_explain_are_explainers(text: str) -> None:
    assert is_explainer_ask(text)


@pytest.mark.parametrize(
    "text",
    ["a product demo of our bottle", "an explainer of laminar flow", "a cat explaining", "explanatory"],
)
def test_other_asks_are_not_even_an_explainer_of_x_without_audience_or_captions(text: str) -> None:
    assert not is_explainer_ask(text)


def test_the_offline_outline_uses_only_the_asks_own_words_and_says_it_needs_the_llm() -> None:
    brief = offline("explain laminar vs turbulent flow for 14-year-olds", 30)

    explainer = brief.explainer
    assert explainer is not None and explainer.outline_only
    assert len(explainer.script) == len(brief.shots) == 8
    assert explainer.key_terms == ("laminar flow", "turbulent flow")
    assert explainer.goal == "Tell laminar flow and turbulent flow apart."
    assert explainer.audience == "14-year-olds"
    ask_words = set(re.findall(r"\w+", "explain laminar vs turbulent flow for 14-year-olds".lower()))
    connectives = {"first", "next", "and", "side", "by", "that", "was", "look", "again"}
    for line in explainer.script:  # no invented facts: every word is the ask's or a connective
        assert set(re.findall(r"\w+", line.lower())) <= ask_words | connectives, line
    assert pacing(explainer.script, [s.seconds for s in brief.shots]).fits
    assert "explain laminar" not in brief.prompt  # "explain X" is an explainer of X


def test_the_audience_option_makes_an_explainer_and_wins_over_the_words() -> None:
    brief = offline("photosynthesis in leaves", 12, explainer=True, audience="age 14")
    assert brief.explainer is not None and brief.explainer.audience == "age 14"
    assert offline("a product demo of our steel bottle", 8).explainer is None


def test_key_terms_share_the_noun_said_once() -> None:
    assert key_terms("laminar vs turbulent flow") == ("laminar flow", "turbulent flow")
    assert key_terms("mitosis and meiosis") == ("mitosis", "meiosis")
    assert key_terms("plate tectonics") == ("plate tectonics",)


def test_pacing_counts_words_and_cjk_characters() -> None:
    assert speaking_seconds("one two three four five") == pytest.approx(2.0)
    assert speaking_seconds("层流是平滑的") == pytest.approx(1.5)
    assert word_budget(4.0) == 8
    fit = pacing(
        ("short line.", "this line has far too many words for a two second shot to hold"), [4.0, 2.0]
    )
    assert [o.shot for o in fit.overruns] == [2] and not fit.fits


def test_a_long_line_is_cut_at_a_sentence_else_at_a_word_never_mid_word() -> None:
    two = "Laminar flow is smooth. Turbulent flow swirls and mixes in every direction at once."
    assert shorten(two, 3.0) == "Laminar flow is smooth."
    one = "Turbulent flow swirls and mixes in every direction at once without any order"
    cut = shorten(one, 2.5)
    assert cut.endswith("…") and all(w in one.split() for w in cut.rstrip("…").split())
    assert speaking_seconds(cut.rstrip("…")) <= 2.5
    assert shorten("Fine.", 4.0) == "Fine."


@pytest.mark.parametrize(
    ("flags", "captions", "audience"),
    [
        ('--captions burn --audience "age 14"', "burn", "age 14"),
        ("--captions es", "es", None),
        ("--captions zh-CN", "zh-CN", None),
        ("--captions OFF", "off", None),
    ],
)
def test_captions_and_audience_flags_are_typed_options(
    flags: str, captions: str, audience: str | None
) -> None:
    ask = parse_ask(f"explain tides {flags} --seconds 20")
    assert ask.text == "explain tides"
    assert (ask.options.captions, ask.options.audience, ask.options.seconds) == (captions, audience, 20)
    assert RequestOptions.from_dict(ask.options.to_dict()) == ask.options


def test_a_bad_captions_value_is_a_friendly_error() -> None:
    with pytest.raises(InvalidOptions, match="must be burn, off, on or a language"):
        parse_ask("explain tides --captions 'in spanish please'")
    typed = RequestOptions(captions="es", audience="  age   14 ")
    assert parse_ask("explain tides", given=typed).options.audience == "age 14"


def test_the_edit_script_form_round_trips_one_line_per_shot() -> None:
    script = ("Laminar flow is smooth.", "", "Turbulent flow swirls.")
    text = script_form_text(script)
    assert text == "1. Laminar flow is smooth.\n2. \n3. Turbulent flow swirls."
    assert script_lines_from_form("1. A\n2) B\nShot 3: C\n4. D", 3) == ("A", "B", "C D")
    assert script_lines_from_form("just one line", 3) == ("just one line", "", "")


def test_an_explainer_survives_storage_as_a_dict_and_changes_the_brief_digest() -> None:
    explainer = Explainer(
        ("a", "b"), ("t",), "goal", "age 14", "en", True, Translation("es", ("x", "y")), (2,)
    )
    assert Explainer.from_dict(explainer.to_dict()) == explainer
    brief = offline("explain tides", 8)
    assert brief.explainer is not None
    edited = brief.explainer.with_script(("Tides rise.", "Tides fall."))
    from dataclasses import replace

    assert replace(brief, explainer=edited).digest != brief.digest
    assert edited.translation is None and not edited.outline_only
