"""A platform-neutral message model that adapters render (Block Kit, discord.ui, console).

The core says *what* to show; each adapter decides *how*. Buttons carry an
:class:`Action` and a request id, so a click maps back to the core without
any platform state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    """Button actions. Their values are a public contract (README: "Actions")."""

    RENDER = "render"
    EDIT = "edit"
    CANCEL = "cancel"
    APPROVE = "approve"
    REGENERATE = "regenerate"
    REJECT = "reject"
    RETRY = "retry"
    APPEAL = "appeal"
    APPEAL_ALLOW = "appeal_allow"
    APPEAL_DENY = "appeal_deny"
    EDIT_SCRIPT = "edit_script"
    REGENERATE_SHOT = "regenerate_shot"  # a shot picker: the chosen option names the shot's render
    EDIT_SHOT = "edit_shot"
    MAKE_FINAL = "make_final"  # a draft in review: render the same shots at full quality
    OPEN_REVIEW = "open_review"  # sends the presser a one-time sign-in link to the review page
    PICK = "pick"  # variants side by side: this take goes to review, the others are archived
    RETRY_NARRATION = "retry_narration"  # the voice failed: mix it again under the same clip


class Style(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    label: str
    action: Action
    request_id: str
    style: Style = Style.DEFAULT
    render_id: str | None = None

    @property
    def value(self) -> str:
        """The opaque value the platform carries back: ``{request_id}`` or ``{request_id}:{render_id}``."""
        return f"{self.request_id}:{self.render_id}" if self.render_id else self.request_id


@dataclass(frozen=True)
class Option:
    label: str
    render_id: str  # the render the option names (a shot of a cut)


@dataclass(frozen=True)
class Picker:
    """A menu of options (a shot picker); choosing one acts like a button with that option's render."""

    placeholder: str
    action: Action
    request_id: str
    options: tuple[Option, ...]

    def value(self, option: Option) -> str:
        return f"{self.request_id}:{option.render_id}"


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Message:
    """One chat message: a headline, optional body text, fields, a context line and buttons.

    Text may hold what users and models wrote. Adapters show all of it as text
    (no broadcasts, group or user mentions, or disguised links take effect) and
    let only the users in ``mentions`` be mentioned: the people the core names
    on purpose (the requester, the deciding approver), written ``<@user id>``.
    ``mentions=None`` is for the core's own words alone (a private notice built from
    :mod:`bot.texts`): plain user mentions there stay mentions.
    """

    text: str
    body: str = ""
    fields: tuple[Field, ...] = ()
    buttons: tuple[Button, ...] = ()
    context: str = ""
    progress: int | None = None
    mentions: tuple[str, ...] | None = ()
    pickers: tuple[Picker, ...] = ()

    def plain(self) -> str:
        """The whole message as plain text, for notifications, logs and the console."""
        parts = [self.text]
        if self.body:
            parts.append(self.body)
        parts.extend(f"{f.label}: {f.value}" for f in self.fields)
        if self.context:
            parts.append(self.context)
        return "\n".join(parts)


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    value: str = ""
    multiline: bool = True
    required: bool = True
    max_length: int = 3000


@dataclass(frozen=True)
class Form:
    """A modal with text inputs; its submission arrives as a :class:`bot.events.FormSubmitted`."""

    title: str
    action: Action
    request_id: str
    fields: tuple[FormField, ...] = field(default_factory=tuple)
    submit_label: str = "Submit"
    render_id: str | None = None


def parse_button_value(value: str) -> tuple[str, str | None]:
    """Split a button value into ``(request_id, render_id)``."""
    request_id, _, render_id = value.partition(":")
    return request_id, render_id or None
