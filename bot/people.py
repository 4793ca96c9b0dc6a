"""Refuse videos of real, named people unless the policy allows them.

Offline and deterministic, so it works in the embedded default: it catches
the operator's list of protected names, the very well-known people the
project ships in ``bot/data/well_known_people.txt`` (full names in any case
and without accents, "taylor swift", "Beyonce"; single names such as "Obama"),
a title followed by a name ("President Lincoln", "Queen Elizabeth"), and a
common given name followed by a capitalised surname ("Taylor Swift").

False positives are kept down on purpose: a single name is listed only when
it is nobody's ordinary word, or marked to match only capitalised ("Trump",
not "a trump card"); words like "swift" or "rock" never match alone ("a swift
bird", "the rock formation"). It is a first line, not the last: the OpenAI
moderator and the reviewing approver stand behind it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from bot.policy import Policy
from bot.ports import ModerationResult

_TITLES = (
    "president",
    "senator",
    "governor",
    "mayor",
    "prime minister",
    "chancellor",
    "king",
    "queen",
    "prince",
    "princess",
    "pope",
    "sheikh",
    "ceo",
    "minister",
    "general",
    "judge",
    "justice",
)
# Common given names across many languages; a capitalised surname after one reads as a person.
_GIVEN = frozenset(
    [
        "adam",
        "ahmed",
        "alex",
        "alexander",
        "alice",
        "amanda",
        "amy",
        "andrea",
        "andrew",
        "angela",
        "anna",
        "anne",
        "antonio",
        "barack",
        "ben",
        "benjamin",
        "bernie",
        "beyonce",
        "bill",
        "bob",
        "boris",
        "brad",
        "brian",
        "bruce",
        "carlos",
        "charles",
        "charlie",
        "chris",
        "christian",
        "christopher",
        "daniel",
        "david",
        "donald",
        "elizabeth",
        "elon",
        "emily",
        "emma",
        "emmanuel",
        "eric",
        "fatima",
        "francis",
        "frank",
        "gabriel",
        "george",
        "greta",
        "hillary",
        "hugh",
        "ivan",
        "jack",
        "jacob",
        "james",
        "jane",
        "jason",
        "jeff",
        "jennifer",
        "jessica",
        "jim",
        "joe",
        "john",
        "jonathan",
        "jordan",
        "jose",
        "joseph",
        "julia",
        "justin",
        "kamala",
        "karen",
        "kate",
        "katy",
        "kevin",
        "kim",
        "kanye",
        "lady",
        "laura",
        "leonardo",
        "lionel",
        "lisa",
        "liz",
        "luis",
        "maria",
        "mark",
        "martin",
        "mary",
        "matthew",
        "michael",
        "michelle",
        "mike",
        "mohammed",
        "muhammad",
        "narendra",
        "nancy",
        "natalie",
        "nicolas",
        "oprah",
        "olaf",
        "paul",
        "peter",
        "rachel",
        "rishi",
        "robert",
        "ronald",
        "ryan",
        "sam",
        "sarah",
        "scarlett",
        "sergey",
        "serena",
        "steve",
        "steven",
        "susan",
        "taylor",
        "thomas",
        "tim",
        "tom",
        "vladimir",
        "warren",
        "will",
        "william",
        "xi",
        "yuki",
        "zendaya",
    ]
)
_NAME = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_TITLE_PATTERN = re.compile(
    r"\b(?:" + "|".join(t.replace(" ", r"\s+") for t in _TITLES) + r")\s+(" + _NAME + r")\b", re.IGNORECASE
)
_PAIR_PATTERN = re.compile(r"\b(" + _NAME + r")\s+(" + _NAME + r")\b")


PEOPLE_FILE = "well_known_people.txt"
CAPITALISED = "capitalised"


def fold(text: str) -> str:
    """``text`` without accents (``Beyoncé`` → ``Beyonce``), case kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _name_pattern(name: str) -> str:
    """A name as a regex: any spacing between words, optional dots and hyphens (``George W Bush``)."""
    words = [re.escape(word).replace(r"\.", r"\.?").replace(r"\-", r"[\s-]?") for word in name.split()]
    return r"[\s-]+".join(words)


def _alternation(names: list[str], flags: int) -> re.Pattern[str] | None:
    if not names:
        return None
    longest_first = sorted(names, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(_name_pattern, longest_first)) + r")(?!\w)", flags)


@dataclass(frozen=True)
class KnownPeople:
    """The shipped list, compiled: names that match in any case, and single names only capitalised."""

    any_case: re.Pattern[str] | None
    capitalised: re.Pattern[str] | None

    @classmethod
    def parse(cls, text: str) -> KnownPeople:
        any_case: list[str] = []
        capitalised: list[str] = []
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            name, _, mark = (part.strip() for part in line.partition("|"))
            if mark and mark != CAPITALISED:
                raise ValueError(f"{PEOPLE_FILE}: unknown mark {mark!r} in {raw!r}")
            (capitalised if mark else any_case).append(fold(name))
        return cls(_alternation(any_case, re.IGNORECASE), _alternation(capitalised, 0))

    def find(self, text: str) -> str | None:
        folded = fold(text)
        for pattern in (self.any_case, self.capitalised):
            match = pattern.search(folded) if pattern is not None else None
            if match:
                return match[0]
        return None


@cache
def known_people() -> KnownPeople:
    """The list the project ships (read once)."""
    return KnownPeople.parse(resources.files("bot").joinpath("data", PEOPLE_FILE).read_text(encoding="utf-8"))


def named_person(text: str, protected: tuple[str, ...] = ()) -> str | None:
    """The real person ``text`` seems to name, or ``None``."""
    folded = fold(text).lower()
    for name in protected:
        if name.strip() and re.search(rf"(?<!\w){re.escape(fold(name).lower())}(?!\w)", folded):
            return name
    known = known_people().find(text)
    if known is not None:
        return known
    for match in _TITLE_PATTERN.finditer(text):
        if match.group(1)[0].isupper():
            return match.group(0)
    for match in _PAIR_PATTERN.finditer(text):
        if match.group(1).lower() in _GIVEN:
            return match.group(0)
    return None


class RealPeopleModerator:
    """Blocks asks that name a real person when the policy does not allow it."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy

    async def check(self, text: str) -> ModerationResult:
        if self._policy.allow_real_people:
            return ModerationResult(True, source="policy")
        who = named_person(text, self._policy.protected_people)
        if who is None:
            return ModerationResult(True, source="policy")
        return ModerationResult(
            False,
            "real_person",
            f"it seems to show a real, named person (“{who}”), and this workspace does not allow that. "
            "Describe a fictional character instead",
            "policy",
        )
