"""Parsing `/video` text: flags, plain phrases, and clear refusals."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import EmptyRequest, InvalidOptions
from bot.options import _tokens, parse_ask


def test_plain_phrases_set_seconds_and_aspect() -> None:
    ask = parse_ask("a 12s product demo of our steel water bottle, vertical")
    assert ask.options.seconds == 12 and ask.options.aspect == "9:16"
    assert "steel water bottle" in ask.text


@pytest.mark.parametrize(
    ("text", "seconds", "aspect"),
    [
        ("a clip, 8 seconds, square", 8, "1:1"),
        ("landscape shot of hills 4 sec", 4, "16:9"),
        ("a 16:9 shot of a fox", None, "16:9"),
        ("a fox --seconds 8 --aspect 9:16", 8, "9:16"),
        ("a fox --seconds=12 --aspect=9x16", 12, "9:16"),
        ("a fox --duration 4s", 4, None),
        ("a fox --aspect vertical", None, "9:16"),
    ],
)
def test_flags_and_phrases(text: str, seconds: int | None, aspect: str | None) -> None:
    options = parse_ask(text).options
    assert (options.seconds, options.aspect) == (seconds, aspect)


def test_flags_win_over_phrases_and_are_removed_from_the_text() -> None:
    ask = parse_ask("a vertical fox --aspect 16:9 --provider Veo --variants 3 --quality high")
    assert ask.options.aspect == "16:9"
    assert ask.options.provider == "veo" and ask.options.variants == 3 and ask.options.quality == "high"
    assert "--" not in ask.text


def test_unbalanced_quotes_in_prose_still_parse() -> None:
    assert "team's" in parse_ask("our team's bottle --seconds 4").text


@pytest.mark.parametrize(
    ("text", "error", "says"),
    [
        ("", EmptyRequest, "Tell me what to make"),
        ("   ", EmptyRequest, "Tell me what to make"),
        ("🎬🎥", EmptyRequest, "a few words"),
        ("--seconds 4", EmptyRequest, "a few words"),
        ("a" * 4001, InvalidOptions, "under 4,000"),
        ("a dog\x00 on a beach", InvalidOptions, "control characters"),
        ("x --seconds", InvalidOptions, "needs a value"),
        ("x --seconds ten", InvalidOptions, "whole number"),
        ("x --aspect 4:3", InvalidOptions, "16:9, 9:16, 1:1"),
        ("x --variants 0", InvalidOptions, "1 to 4"),
        ("x --quality ultra", InvalidOptions, "standard, high"),
        ("x --fps 60", InvalidOptions, "Options are"),
    ],
)
def test_bad_options_name_the_allowed_values(text: str, error: type[Exception], says: str) -> None:
    with pytest.raises(error) as info:
        parse_ask(text)
    assert says in str(info.value)


SPLIT_ALPHABET = [*"ab9é-#;|&<>=*$`!", " ", "\t", "\n", "\r", "\x0b", "\u00a0", "\u2003"]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(SPLIT_ALPHABET)))
def test_text_without_quotes_splits_as_shlex_does(text: str) -> None:
    # The quick split taken when there are no quotes or escapes must give shlex's answer exactly.
    assert _tokens(text) == shlex.split(text)
