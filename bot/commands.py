"""Typed commands: what every entry point (chat, console, CLI, REST API, review page) asks the core to do.

A command carries its :class:`Caller`: who acts, and from which platform,
workspace and channel. The use cases bind every request id to that workspace,
so a request of another workspace is "not found", whatever way in was used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain import Decision, ReplyTarget, RequestOptions


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
class Caller:
    """The actor and where they act: the tenant every command is checked against."""

    actor: Actor
    where: ReplyTarget

    @property
    def user_id(self) -> str:
        return self.actor.user_id

    def owns(self, target: ReplyTarget) -> bool:
        """Whether a request at ``target`` belongs to this caller's platform and workspace."""
        return target.platform == self.where.platform and target.workspace == self.where.workspace


@dataclass(frozen=True)
class OpenRequest:
    """A new ask. ``event_key`` (the platform's retry identity) makes a retried delivery harmless."""

    caller: Caller
    text: str
    options: RequestOptions = field(default_factory=RequestOptions)
    event_key: str | None = None


@dataclass(frozen=True)
class AnswerQuestion:
    """A reply to the refiner's clarifying question."""

    caller: Caller
    request_id: str
    text: str


class Revision(StrEnum):
    EDIT = "edit"  # a new prompt (Edit prompt)
    REGENERATE = "regenerate"  # the same brief, a fresh attempt
    REPLY = "reply"  # an instruction written in the thread while the brief waits
    SCRIPT = "script"  # an explainer's narration rewritten (Edit script)


@dataclass(frozen=True)
class ReviseBrief:
    """Edit prompt, Regenerate, or a reply in the thread: a new brief version.

    For an edit, ``text`` is the new ask and ``options`` what the user set with it; options
    left unset keep the request's current values.
    """

    caller: Caller
    request_id: str
    revision: Revision
    text: str | None = None
    instruction: str | None = None
    options: RequestOptions | None = None
    script: tuple[str, ...] | None = None  # Edit script: one narration line per shot


@dataclass(frozen=True)
class ConfirmRender:
    """The Render button: queue the latest brief at its stored plan."""

    caller: Caller
    request_id: str


@dataclass(frozen=True)
class Decide:
    """Approve or reject one clip; a rejection needs a reason."""

    caller: Caller
    request_id: str
    decision: Decision
    render_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class CancelRequest:
    caller: Caller
    request_id: str


@dataclass(frozen=True)
class RetryRequest:
    caller: Caller
    request_id: str


@dataclass(frozen=True)
class Appeal:
    """The requester asks an approver to look at a blocked request."""

    caller: Caller
    request_id: str


@dataclass(frozen=True)
class DecideAppeal:
    caller: Caller
    request_id: str
    allow: bool


@dataclass(frozen=True)
class Lookup:
    """A read on behalf of ``caller`` (status list, usage, a form's prefill)."""

    caller: Caller
    request_id: str | None = None


@dataclass(frozen=True)
class RerenderShot:
    """Render one shot of a cut again (``text``: with new words for it); the other shots are reused.

    ``shot_render_id`` names the shot by the render that made it (what a shot picker carries);
    ``shot`` by its number in the latest cut (what a person types).
    """

    caller: Caller
    request_id: str
    shot: int | None = None
    shot_render_id: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class PickVariant:
    """Variants side by side: ``render_id``'s take goes to review; the other takes are archived."""

    caller: Caller
    request_id: str
    render_id: str | None


@dataclass(frozen=True)
class MakeFinal:
    """Render a draft's shots again, same brief and seeds, at the final tier."""

    caller: Caller
    request_id: str


@dataclass(frozen=True)
class RetryNarrationOf:
    """Retry narration: speak the script again under the clip ``render_id`` (no new provider job)."""

    caller: Caller
    request_id: str
    render_id: str | None
