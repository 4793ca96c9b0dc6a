"""Shot lists a model can make: lengths it offers, summing to the ask; refusals that say what can be."""

from __future__ import annotations

import pytest

from bot.cuts import needs_cut, split_seconds
from bot.errors import InvalidOptions

OPENAI = (4, 8, 12)
ANIMATIC = (4, 6, 8, 10, 12, 16, 20)


def test_a_36_second_ask_on_a_12_second_model_is_three_jobs() -> None:
    assert split_seconds(36, OPENAI) == (12, 12, 12)


def test_a_60_second_storyboard_is_six_shots_of_ten_seconds() -> None:
    assert split_seconds(60, ANIMATIC, longest=10) == (10,) * 6


def test_shots_asked_for_are_honoured_with_lengths_the_model_makes() -> None:
    lengths = split_seconds(36, OPENAI, shots=4)
    assert len(lengths) == 4 and sum(lengths) == 36 and set(lengths) <= set(OPENAI)


def test_a_length_that_cannot_add_up_names_the_nearest_lengths() -> None:
    with pytest.raises(InvalidOptions) as refused:
        split_seconds(37, OPENAI)
    assert "`--seconds 36`" in refused.value.user_message and "`--seconds 40`" in refused.value.user_message


def test_a_five_minute_ask_is_refused_with_the_maximum() -> None:
    with pytest.raises(InvalidOptions) as refused:
        split_seconds(300, OPENAI)
    assert "120 seconds" in refused.value.user_message
    assert split_seconds(144, OPENAI, max_seconds=180) == (12,) * 12  # the maximum is configurable


def test_only_asks_longer_than_one_clip_or_with_shots_become_cuts() -> None:
    assert not needs_cut(12, None, OPENAI) and needs_cut(16, None, OPENAI) and needs_cut(8, 2, OPENAI)
