"""Refuse videos of real, named people unless the policy allows them.

Offline and deterministic, so it works in the embedded default: it catches
the operator's list of protected names, a title followed by a name
("President Lincoln", "Queen Elizabeth"), and a common given name followed by a
surname ("Taylor Swift"). It is a first line, not the last: the OpenAI
moderator and the reviewing approver stand behind it.
"""

from __future__ import annotations

import re

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


def named_person(text: str, protected: tuple[str, ...] = ()) -> str | None:
    """The real person ``text`` seems to name, or ``None``."""
    lowered = text.lower()
    for name in protected:
        if name.strip() and re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", lowered):
            return name
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
