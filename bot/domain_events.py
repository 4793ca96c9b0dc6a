"""Domain events: a typed record of something that happened to a request, with who caused it.

Every state change of a request or render writes exactly one of these in the
same transaction as the row (:mod:`bot.transitions`); the audit log keeps them
and the outbox hands them to the sinks (thread presenter, webhooks, metrics).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from bot import event_payloads
from bot.domain import ReplyTarget, VideoRequest, new_id, utcnow
from bot.event_kinds import EventKind
from bot.event_payloads import Payload


def _payload_types() -> dict[EventKind, type[Payload]]:
    found: dict[EventKind, type[Payload]] = {}
    for value in vars(event_payloads).values():
        if isinstance(value, type) and issubclass(value, Payload) and "KIND" in vars(value):
            found[value.KIND] = value
    return found


PAYLOAD_TYPES: dict[EventKind, type[Payload]] = _payload_types()

# Immutable leaves: ``dataclasses.asdict`` deep-copies every leaf, which for these gives back an
# equal value; returning them as they are is the same answer at a fraction of the cost (events
# are converted for every audit row and outbox entry, several per command before its ack).
_LEAVES = (str, int, float, bool, type(None), Enum, datetime)


def as_plain(value: Any) -> Any:
    """What :func:`dataclasses.asdict` gives for ``value`` (a dataclass instance, or anything in one)."""
    if isinstance(value, _LEAVES):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple
        return type(value)(*[as_plain(v) for v in value])
    if isinstance(value, list | tuple):
        return type(value)(as_plain(v) for v in value)
    if isinstance(value, dict):
        return type(value)((as_plain(k), as_plain(v)) for k, v in value.items())
    return copy.deepcopy(value)


@dataclass(frozen=True)
class DomainEvent:
    """One thing that happened. ``kind`` comes from the payload's type, so they can never disagree."""

    payload: Payload
    actor: str
    request_id: str | None = None
    render_id: str | None = None
    platform: str = ""
    workspace: str = ""
    channel: str = ""
    # Set by the transition that wrote the event (empty for events that move nothing).
    from_status: str = ""
    to_status: str = ""
    id: str = field(default_factory=lambda: new_id("evt"))
    at: datetime = field(default_factory=utcnow)

    @property
    def kind(self) -> EventKind:
        return self.payload.KIND

    @property
    def data(self) -> dict[str, Any]:
        """The payload as a JSON-friendly dict (what the audit log and the outbox store)."""
        plain: dict[str, Any] = as_plain(self.payload)
        return plain

    def moved(self, from_status: str, to_status: str) -> DomainEvent:
        return dataclasses.replace(self, from_status=from_status, to_status=to_status)

    def with_scope(self, other: DomainEvent) -> DomainEvent:
        """This event, placed in ``other``'s platform, workspace and channel."""
        return dataclasses.replace(
            self, platform=other.platform, workspace=other.workspace, channel=other.channel
        )


def event(
    payload: Payload,
    actor: str,
    *,
    request_id: str | None = None,
    render_id: str | None = None,
    target: ReplyTarget | None = None,
    at: datetime | None = None,
) -> DomainEvent:
    """A new event about ``request_id`` in ``target``'s workspace and channel."""
    return DomainEvent(
        payload=payload,
        actor=actor,
        request_id=request_id,
        render_id=render_id,
        platform=target.platform if target else "",
        workspace=target.workspace if target else "",
        channel=target.channel if target else "",
        at=at or utcnow(),
    )


def about(
    request: VideoRequest,
    payload: Payload,
    actor: str = "clipdesk",
    *,
    render_id: str | None = None,
    at: datetime | None = None,
) -> DomainEvent:
    """A new event about ``request``, in its workspace and channel."""
    return event(payload, actor, request_id=request.id, render_id=render_id, target=request.target, at=at)


def payload_from(kind: EventKind | str, data: dict[str, Any]) -> Payload:
    """Rebuild the payload of a stored event; fields a newer version added are ignored."""
    cls = PAYLOAD_TYPES[EventKind(kind)]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def restore(
    kind: EventKind | str,
    data: dict[str, Any],
    *,
    id: str,
    actor: str,
    at: datetime,
    request_id: str | None = None,
    render_id: str | None = None,
    platform: str = "",
    workspace: str = "",
    channel: str = "",
    from_status: str = "",
    to_status: str = "",
) -> DomainEvent:
    """The event as it was recorded (storage calls this when it reads the audit log or outbox)."""
    return DomainEvent(
        payload=payload_from(kind, data),
        actor=actor,
        request_id=request_id,
        render_id=render_id,
        platform=platform,
        workspace=workspace,
        channel=channel,
        from_status=from_status,
        to_status=to_status,
        id=id,
        at=at,
    )


# The record the audit log keeps is the event itself: one name for export and reports.
AuditEvent = DomainEvent
