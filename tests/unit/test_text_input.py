"""The one hygiene check every text passes: length and control characters."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from bot.errors import InvalidOptions
from bot.text_input import CONTROL_CHARACTERS, MAX_TEXT_CHARS, clean_text


def test_the_control_class_is_unicodes_cc_category_but_tab_lf_and_cr() -> None:
    # The character class stands in for unicodedata per character: every code point must agree.
    wrong = [
        hex(cp)
        for cp in range(sys.maxunicode + 1)
        if bool(CONTROL_CHARACTERS.match(chr(cp)))
        != (unicodedata.category(chr(cp)) == "Cc" and chr(cp) not in "\t\n\r")
    ]
    assert wrong == []


@pytest.mark.parametrize("text", ["a NUL \x00 byte", "bell \x07", "escape \x1b[31m", "C1 \x85 next line"])
def test_control_characters_get_a_friendly_refusal(text: str) -> None:
    with pytest.raises(InvalidOptions, match="control"):
        clean_text(text)


def test_tabs_newlines_and_other_scripts_pass_and_the_text_is_stripped() -> None:
    assert clean_text("  a clip\tof\r\nlaminar flow — 层流 🌊  ") == "a clip\tof\r\nlaminar flow — 层流 🌊"


def test_too_long_is_refused_with_its_length() -> None:
    with pytest.raises(InvalidOptions, match=f"{MAX_TEXT_CHARS + 1:,}"):
        clean_text("x" * (MAX_TEXT_CHARS + 1), what="ask")
