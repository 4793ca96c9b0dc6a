"""Hygiene for every text a person sends: one length limit, no control characters.

Asks, thread replies, form fields and reasons all pass through :func:`clean_text`
before anything is stored or sent to a refiner, so a megabyte reply or a NUL
byte gets a clear answer instead of a database error or a huge audit row.
"""

from __future__ import annotations

import unicodedata

from bot import texts
from bot.errors import InvalidOptions

# One limit for everything a user writes: a refined prompt (up to 4,000 characters) can be
# edited and sent back in full, so the limit must hold it.
MAX_TEXT_CHARS = 4000
_KEEP = {"\n", "\r", "\t"}


def clean_text(text: str | None, *, what: str = "message") -> str:
    """``text`` stripped, or a friendly :class:`InvalidOptions` if it is too long or has control bytes."""
    text = (text or "").strip()
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidOptions(texts.too_long(what, len(text), MAX_TEXT_CHARS))
    if any(unicodedata.category(ch) == "Cc" and ch not in _KEEP for ch in text):
        raise InvalidOptions(texts.CONTROL_CHARACTERS)
    return text
