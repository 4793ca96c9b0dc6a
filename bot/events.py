"""Typed chat events: what every adapter turns platform payloads into."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.domain import ReplyTarget
from bot.messages import Action


@dataclass(frozen=True)
class Actor:
    """Who did something, with what the platform says about their groups or roles."""

    user_id: str
    name: str = ""
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def mention(self) -> str:
        return self.name or self.user_id


@dataclass(frozen=True)
class VideoCommand:
    """``/video …`` (also an app mention or a DM). ``event_id`` makes platform retries harmless."""

    target: ReplyTarget
    actor: Actor
    text: str
    event_id: str
    trigger: Any = None


@dataclass(frozen=True)
class ButtonPressed:
    target: ReplyTarget
    actor: Actor
    action: Action
    request_id: str
    render_id: str | None = None
    message_ref: str | None = None
    trigger: Any = None


@dataclass(frozen=True)
class FormSubmitted:
    target: ReplyTarget
    actor: Actor
    action: Action
    request_id: str
    values: dict[str, str]
    render_id: str | None = None


@dataclass(frozen=True)
class ThreadReply:
    """A plain message in a request's thread (a clarification answer or a change to the brief)."""

    target: ReplyTarget
    actor: Actor
    text: str
    event_id: str


ChatEvent = VideoCommand | ButtonPressed | FormSubmitted | ThreadReply
