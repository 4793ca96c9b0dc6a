"""Core messages and forms as Block Kit JSON.

Action ids and values are a public contract (deploy/slack/README.md):
a button's ``action_id`` is ``clipdesk_{action}`` and its ``value`` is
:attr:`bot.messages.Button.value` (``{request_id}`` or ``{request_id}:{render_id}``).
A modal's ``callback_id`` is ``clipdesk_{action}``; its ``private_metadata``
carries the action, request, render and the thread it was opened from.

Every text of a core message goes out through :func:`adapters.slack.escaping.inert_mrkdwn`:
what users and models wrote cannot mention, notify or disguise a link.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from adapters.slack.escaping import inert_mrkdwn
from bot.domain import ReplyTarget
from bot.messages import Action, Button, Form, Message, Picker, Style

ACTION_PREFIX = "clipdesk_"
FORM_BLOCK_PREFIX = "field_"

# Slack's documented limits (Block Kit reference).
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
FIELDS_PER_SECTION = 10
BODY_SECTIONS_MAX = 10  # Slack allows 50 blocks per message
CONTEXT_TEXT_MAX = 3000
BUTTON_LABEL_MAX = 75
BUTTON_VALUE_MAX = 2000
SELECT_OPTIONS_MAX = 100  # Block Kit's limit on a static_select's options
FALLBACK_TEXT_MAX = 4000
MODAL_TITLE_MAX = 24
METADATA_MAX = 3000

Block = dict[str, Any]


def action_id(action: Action) -> str:
    """The ``action_id`` of a button for ``action``."""
    return f"{ACTION_PREFIX}{action.value}"


def action_from_id(value: str) -> Action | None:
    """The core action behind a ``clipdesk_*`` id, or ``None`` for anything else."""
    if not value.startswith(ACTION_PREFIX):
        return None
    try:
        # ``clipdesk_pick.2``: a second button of one action in a message (ids must be unique)
        return Action(value[len(ACTION_PREFIX) :].split(".", 1)[0])
    except ValueError:
        return None


_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def _cut(text: str, limit: int) -> int:
    """Where to cut ``text`` to at most ``limit`` characters without splitting an ``&lt;`` entity."""
    if len(text) <= limit:
        return len(text)
    partial = _PARTIAL_ENTITY.search(text[max(0, limit - 4) : limit])
    return limit - (len(partial[0]) if partial else 0)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: _cut(text, limit - 1)] + "…"


def _mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(text, limit)}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def progress_bar(percent: int, width: int = 20) -> str:
    """A text progress bar, e.g. ``▓▓▓▓▓░░░░░ 50%`` (Block Kit has no progress element)."""
    percent = max(0, min(100, percent))
    filled = round(width * percent / 100)
    return f"`{'▓' * filled}{'░' * (width - filled)}` {percent}%"


def fallback_text(message: Message) -> str:
    """The top-level ``text``: what notifications and screen readers show."""
    return _clip(inert_mrkdwn(message.plain(), message.mentions), FALLBACK_TEXT_MAX)


def message_blocks(message: Message) -> list[Block]:
    """Render a core :class:`Message` as Block Kit blocks (no actions block when it has no buttons)."""

    def inert(text: str) -> str:
        return inert_mrkdwn(text, message.mentions)

    blocks: list[Block] = [{"type": "section", "text": _mrkdwn(f"*{inert(message.text)}*")}]
    if message.progress is not None:
        blocks.append({"type": "section", "text": _mrkdwn(progress_bar(message.progress))})
    body = _clip(inert(message.body), SECTION_TEXT_MAX * BODY_SECTIONS_MAX)
    while body:  # a long body becomes several sections rather than a rejected message
        cut = _cut(body, SECTION_TEXT_MAX)
        blocks.append({"type": "section", "text": _mrkdwn(body[:cut])})
        body = body[cut:]
    fields = list(message.fields)
    for start in range(0, len(fields), FIELDS_PER_SECTION):
        chunk = fields[start : start + FIELDS_PER_SECTION]
        blocks.append(
            {
                "type": "section",
                "fields": [_mrkdwn(f"*{inert(f.label)}*\n{inert(f.value)}", FIELD_TEXT_MAX) for f in chunk],
            }
        )
    if message.buttons:
        blocks.append(
            {
                "type": "actions",
                "block_id": "clipdesk_actions",
                "elements": [
                    _button(b.label, b.action, b.value, b.style, repeat=_repeat(message.buttons, i))
                    for i, b in enumerate(message.buttons)
                ],
            }
        )
    if message.pickers:
        # A shot picker is a static_select: choosing an option acts like its button would.
        blocks.append(
            {
                "type": "actions",
                "block_id": "clipdesk_pickers",
                "elements": [_select(picker) for picker in message.pickers],
            }
        )
    if message.context:
        blocks.append({"type": "context", "elements": [_mrkdwn(inert(message.context), CONTEXT_TEXT_MAX)]})
    return blocks


def _select(picker: Picker) -> Block:
    return {
        "type": "static_select",
        "action_id": action_id(picker.action),
        "placeholder": _plain(picker.placeholder, BUTTON_LABEL_MAX),
        "options": [
            {"text": _plain(option.label, BUTTON_LABEL_MAX), "value": picker.value(option)[:150]}
            for option in picker.options[:SELECT_OPTIONS_MAX]
        ],
    }


def _repeat(buttons: tuple[Button, ...], index: int) -> int:
    """How many earlier buttons of the message share this one's action (Pick #1, Pick #2, …)."""
    return sum(1 for b in buttons[:index] if b.action == buttons[index].action)


def _button(label: str, action: Action, value: str, style: Style, *, repeat: int = 0) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id(action) + (f".{repeat + 1}" if repeat else ""),
        "text": _plain(label, BUTTON_LABEL_MAX),
        "value": value[:BUTTON_VALUE_MAX],
    }
    if style != Style.DEFAULT:
        button["style"] = style.value
    return button


def link_blocks(message: Message, url: str | None, note: str) -> list[Block]:
    """The clip message when the file itself could not be uploaded: a link and a note why.

    The link line is the adapter's own (a signed clip link), so it is the one mrkdwn not made inert.
    """
    if url:
        line = f"📎 <{url}|Download the clip>\n_{note}_"
    else:
        line = (
            f"📎 _{note}_ The clip is kept on the clipdesk server; "
            "set `CLIPDESK_PUBLIC_URL` so links open from Slack."
        )
    blocks = message_blocks(message)
    blocks.insert(1, {"type": "section", "text": _mrkdwn(line)})
    return blocks


# ----------------------------------------------------------------------- modals


@dataclass(frozen=True)
class FormOrigin:
    """What a modal submission needs to find its way back: the form's ids and the thread."""

    action: Action
    request_id: str
    render_id: str | None
    target: ReplyTarget | None

    def dump(self) -> str:
        data: dict[str, Any] = {"a": self.action.value, "r": self.request_id}
        if self.render_id:
            data["v"] = self.render_id
        if self.target is not None:
            data["t"] = [self.target.workspace, self.target.channel, self.target.thread]
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def load(cls, raw: str, platform: str) -> FormOrigin | None:
        """Parse ``private_metadata``; ``None`` if it is not one of ours."""
        try:
            data = json.loads(raw)
            action = Action(data["a"])
            request_id = str(data["r"])
        except (ValueError, KeyError, TypeError):
            return None
        target = None
        if isinstance(data.get("t"), list) and len(data["t"]) == 3:
            workspace, channel, thread = data["t"]
            target = ReplyTarget(platform, str(workspace), str(channel), thread)
        return cls(action, request_id, data.get("v"), target)


def form_view(form: Form, origin_target: ReplyTarget | None) -> Block:
    """A modal with one plain-text input per form field, prefilled with the current values."""
    origin = FormOrigin(form.action, form.request_id, form.render_id, origin_target)
    blocks: list[Block] = []
    for field in form.fields:
        element: Block = {
            "type": "plain_text_input",
            "action_id": field.name,
            "multiline": field.multiline,
            "max_length": field.max_length,
        }
        if field.value:
            element["initial_value"] = field.value[: field.max_length]
        blocks.append(
            {
                "type": "input",
                "block_id": f"{FORM_BLOCK_PREFIX}{field.name}",
                "label": _plain(field.label, 2000),
                "optional": not field.required,
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": action_id(form.action),
        "title": _plain(form.title, MODAL_TITLE_MAX),
        "submit": _plain(form.submit_label, MODAL_TITLE_MAX),
        "close": _plain("Cancel", MODAL_TITLE_MAX),
        "private_metadata": origin.dump()[:METADATA_MAX],
        "blocks": blocks,
    }


def form_values(view: dict[str, Any]) -> dict[str, str]:
    """The submitted values of a modal built by :func:`form_view`, keyed by field name."""
    values: dict[str, str] = {}
    state = view.get("state", {}).get("values", {})
    for block_id, inputs in state.items():
        if not block_id.startswith(FORM_BLOCK_PREFIX) or not isinstance(inputs, dict):
            continue
        name = block_id[len(FORM_BLOCK_PREFIX) :]
        entry = inputs.get(name) or {}
        values[name] = str(entry.get("value") or "")
    return values


def required_fields(view: dict[str, Any]) -> list[str]:
    """Names of the fields that the modal declared as required."""
    names = []
    for block in view.get("blocks", []):
        block_id = str(block.get("block_id", ""))
        required = block.get("type") == "input" and not block.get("optional", False)
        if required and block_id.startswith(FORM_BLOCK_PREFIX):
            names.append(block_id[len(FORM_BLOCK_PREFIX) :])
    return names


def field_block_id(name: str) -> str:
    return f"{FORM_BLOCK_PREFIX}{name}"
