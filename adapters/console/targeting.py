"""Which request and version a console command names: ``req_3f9a…``, ``#2``, ``v2`` (any order, up front)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_REQUEST = re.compile(r"^req_[0-9a-f]{4,20}$")
_NUMBER = re.compile(r"^#(\d{1,4})$")
_VERSION = re.compile(r"^v(\d{1,4})$", re.IGNORECASE)


@dataclass(frozen=True)
class Pick:
    request_id: str | None = None  # a full id, or a prefix of at least four hex digits
    number: int | None = None  # the n-th request opened in this session
    version: int | None = None  # a brief version of that request


def parse_pick(text: str) -> tuple[Pick, str]:
    """Read the leading request and version names off ``text``; return them and the rest."""
    words = text.split()
    request_id: str | None = None
    number: int | None = None
    version: int | None = None
    taken = 0
    for word in words[:3]:
        if request_id is None and number is None and _REQUEST.match(word):
            request_id = word
        elif request_id is None and number is None and (m := _NUMBER.match(word)):
            number = int(m.group(1))
        elif version is None and (m := _VERSION.match(word)):
            version = int(m.group(1))
        else:
            break
        taken += 1
    return Pick(request_id, number, version), " ".join(words[taken:])
