"""The real-people rule: any case, well-known single names, and no alarm on ordinary words."""

from __future__ import annotations

import pytest

from bot.people import KnownPeople, RealPeopleModerator, known_people, named_person
from bot.policy import Policy


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("taylor swift dancing in the rain", "taylor swift"),
        ("TAYLOR SWIFT on stage", "TAYLOR SWIFT"),
        ("Obama waving from a podium", "Obama"),
        ("obama's dog on a lawn", "obama"),
        ("Beyoncé singing", "Beyonce"),
        ("a portrait of elon musk", "elon musk"),
        ("Trump at a rally", "Trump"),
        ("george w bush painting", "george w bush"),
        ("Kim Jong-un at a parade", "Kim Jong-un"),
        ("President Lincoln at Gettysburg", "President Lincoln"),
        ("Barack Smith waving", "Barack Smith"),  # a known given name before a capitalised surname
    ],
)
def test_real_people_are_found_in_any_case_and_by_well_known_single_names(text: str, who: str) -> None:
    assert named_person(text) == who


@pytest.mark.parametrize(
    "text",
    [
        "a swift bird over a lake",
        "the rock formation at sunset",
        "The rock formation at sunset",
        "a trump card on a green table",
        "a drake paddling on the pond",
        "musk oxen crossing the tundra",
        "the gates of an old castle",
        "a pink sunset, then a will to win",
        "bill the client, mark the spot",
    ],
)
def test_ordinary_words_are_not_taken_for_people(text: str) -> None:
    assert named_person(text) is None


def test_single_names_that_are_also_words_match_only_capitalised() -> None:
    people = KnownPeople.parse("Drake | capitalised\nObama\n")
    assert people.find("Drake on stage") == "Drake" and people.find("a drake on a pond") is None
    assert people.find("OBAMA") == "OBAMA"
    with pytest.raises(ValueError, match="unknown mark"):
        KnownPeople.parse("Someone | loud\n")


def test_the_shipped_list_loads_and_operators_extend_it() -> None:
    assert known_people().find("an ad with zendaya") == "zendaya"
    assert named_person("a cameo by ada example", ("Ada Example",)) == "Ada Example"
    assert named_person("a cameo by Ádá Example", ("Ada Example",)) == "Ada Example"


async def test_the_moderator_refuses_unless_real_people_are_allowed() -> None:
    blocked = await RealPeopleModerator(Policy()).check("obama riding a bike")
    assert not blocked.allowed and blocked.category == "real_person" and "obama" in (blocked.reason or "")
    allowed = await RealPeopleModerator(Policy(allow_real_people=True)).check("obama riding a bike")
    assert allowed.allowed
