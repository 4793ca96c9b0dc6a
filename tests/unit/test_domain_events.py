"""An event's data: what ``dataclasses.asdict`` gives, without its per-leaf deep copies."""

from __future__ import annotations

import dataclasses
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

import pytest

from bot.domain_events import PAYLOAD_TYPES, as_plain, event
from bot.event_kinds import EventKind
from tests.unit.test_transitions import sample

Point = namedtuple("Point", "x y")


class Colour(Enum):
    RED = "red"


@dataclass
class Inner:
    name: str
    tags: list[str]


@dataclass
class Outer:
    inner: Inner
    inners: tuple[Inner, ...]
    scores: dict[str, list[float]]
    point: Point
    colour: Colour
    at: datetime
    nothing: None = None
    nested: list[dict[str, Inner]] = field(default_factory=list)
    extra: set[int] = field(default_factory=set)  # not a leaf asdict keeps: deep-copied


def test_as_plain_equals_asdict_on_nested_values() -> None:
    value = Outer(
        inner=Inner("a", ["x", "y"]),
        inners=(Inner("b", []), Inner("c", ["z"])),
        scores={"k": [0.5, 1.0]},
        point=Point(1, 2),
        colour=Colour.RED,
        at=datetime(2026, 11, 28, tzinfo=UTC),
        nested=[{"n": Inner("d", ["w"])}],
        extra={1, 2},
    )
    plain = as_plain(value)
    assert plain == dataclasses.asdict(value)
    assert type(plain["inners"]) is tuple and type(plain["point"]) is Point
    # Containers are new objects, as asdict's are: changing the copy leaves the event alone.
    plain["inner"]["tags"].append("changed")
    plain["extra"].add(3)
    assert value.inner.tags == ["x", "y"] and value.extra == {1, 2}


@pytest.mark.parametrize("kind", list(PAYLOAD_TYPES), ids=lambda k: k.value)
def test_every_payloads_data_is_its_asdict(kind: EventKind) -> None:
    payload = sample(kind)
    assert event(payload, "U1").data == dataclasses.asdict(payload)
