"""Typed chat events: what every chat adapter turns platform payloads into, converted once at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.commands import Actor
from bot.domain import ReplyTarget, RequestOptions
from bot.messages import Action

__all__ = [
    "Actor",
    "ButtonPressed",
    "ChatEvent",
    "FormSubmitted",
    "Subcommand",
    "ThreadReply",
    "VideoCommand",
]


class Subcommand(StrEnum):
    """``/video help|status|usage|cancel`` (Discord: ``/video-status`` …), typed, never matched by name."""

    HELP = "help"
    STATUS = "status"
    USAGE = "usage"
    CANCEL = "cancel"


@dataclass(frozen=True)
class VideoCommand:
    """``/video …`` (also an app mention or a DM). ``event_id`` makes platform retries harmless.

    ``options`` are what the platform delivered typed (Discord's options); ``None`` when the
    platform has only text, which the core then reads with :func:`bot.options.parse_ask`.
    """

    target: ReplyTarget
    actor: Actor
    text: str
    event_id: str
    trigger: Any = None
    options: RequestOptions | None = None
    subcommand: Subcommand | None = None


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


def subcommand_of(text: str) -> Subcommand | None:
    """The subcommand a text-only platform's ``/video <word>`` names, if the whole text is one."""
    try:
        return Subcommand(text.strip().lower())
    except ValueError:
        return None
