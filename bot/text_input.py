"""Hygiene for every text a person sends: one length limit, no control characters.

Asks, thread replies, form fields and reasons all pass through :func:`clean_text`
before anything is stored or sent to a refiner, so a megabyte reply or a NUL
byte gets a clear answer instead of a database error or a huge audit row.
"""

from __future__ import annotations

import re

from bot import texts
from bot.errors import InvalidOptions

# One limit for everything a user writes: a refined prompt (up to 4,000 characters) can be
# edited and sent back in full, so the limit must hold it.
MAX_TEXT_CHARS = 4000
# Unicode's control characters (category Cc: U+0000-U+001F, U+007F-U+009F) but tab, LF and CR.
# A character class, not unicodedata per character: this runs on every command before its ack.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(text: str | None, *, what: str = "message") -> str:
    """``text`` stripped, or a friendly :class:`InvalidOptions` if it is too long or has control bytes."""
    text = (text or "").strip()
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidOptions(texts.too_long(what, len(text), MAX_TEXT_CHARS))
    if CONTROL_CHARACTERS.search(text):
        raise InvalidOptions(texts.CONTROL_CHARACTERS)
    return text
