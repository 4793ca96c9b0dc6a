"""The base of every domain event payload, and the facts every render event carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.event_kinds import EventKind as K


@dataclass(frozen=True, kw_only=True)
class Payload:
    """Base of every payload; ``KIND`` names the event it belongs to."""

    KIND: ClassVar[K]


@dataclass(frozen=True, kw_only=True)
class RenderFacts(Payload):
    """What every render event says about the render it is about."""

    provider: str
    model: str
    attempt: int
