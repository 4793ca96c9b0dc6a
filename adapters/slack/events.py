"""Slack payloads → core events, converted once, at the edge.

Slash commands, ``block_actions``, ``view_submission`` and Events API
messages arrive as the dicts Bolt parsed; what leaves this module is a
:mod:`bot.events` value (or ``None`` for a payload that is not ours).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from adapters.slack import PLATFORM
from adapters.slack.blocks import FormOrigin, action_from_id, field_block_id, form_values, required_fields
from bot.domain import ReplyTarget
from bot.events import Actor, ButtonPressed, FormSubmitted, ThreadReply, VideoCommand, subcommand_of
from bot.messages import parse_button_value

Payload = dict[str, Any]

# Message subtypes that are still a person writing (a reply also sent to the channel, a file with text).
_PERSON_SUBTYPES = {None, "thread_broadcast", "file_share"}


@dataclass(frozen=True)
class SlackTrigger:
    """A ``trigger_id`` (valid ~3 s, for ``views.open``) and the thread the click came from."""

    trigger_id: str
    target: ReplyTarget | None = None


def actor(user_id: str) -> Actor:
    """A Slack user as the core sees them; ``<@U…>`` renders as a mention in every message."""
    return Actor(user_id=user_id, name=f"<@{user_id}>")


def _team(body: Payload) -> str:
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    return str(body.get("team_id") or "")


# ------------------------------------------------------------------ slash command


def command_event(body: Payload) -> VideoCommand:
    """``/video …`` → :class:`VideoCommand`; the ``trigger_id`` is unique per invocation."""
    target = ReplyTarget(PLATFORM, str(body.get("team_id", "")), str(body.get("channel_id", "")))
    trigger_id = str(body.get("trigger_id", ""))
    text = str(body.get("text") or "")
    return VideoCommand(
        target=target,
        actor=actor(str(body.get("user_id", ""))),
        text=text,
        event_id=f"cmd:{trigger_id}",
        trigger=SlackTrigger(trigger_id, target),
        subcommand=subcommand_of(text),
    )


# ------------------------------------------------------------------ interactivity


def button_event(body: Payload) -> ButtonPressed | None:
    """The first ``clipdesk_*`` button (or shot picker choice) of a ``block_actions`` payload, or ``None``."""
    for item in body.get("actions") or []:
        action = action_from_id(str(item.get("action_id", "")))
        # a static_select carries its choice in selected_option, a button in value
        value = item.get("value") or (item.get("selected_option") or {}).get("value")
        if action is None or not value:
            continue
        request_id, render_id = parse_button_value(str(value))
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        message_ts = container.get("message_ts") or message.get("ts")
        thread = container.get("thread_ts") or message.get("thread_ts") or message_ts
        target = ReplyTarget(PLATFORM, _team(body), channel, str(thread) if thread else None)
        # An ephemeral message cannot be updated with chat.update; the core then posts instead.
        ref = None if container.get("is_ephemeral") or not message_ts else f"{channel}:{message_ts}"
        return ButtonPressed(
            target=target,
            actor=actor(str((body.get("user") or {}).get("id", ""))),
            action=action,
            request_id=request_id,
            render_id=render_id,
            message_ref=ref,
            trigger=SlackTrigger(str(body.get("trigger_id", "")), target),
        )
    return None


def form_errors(view: Payload) -> dict[str, str]:
    """``response_action: errors`` for required fields left empty (or only spaces), by block id."""
    values = form_values(view)
    return {
        field_block_id(name): "This can't be empty."
        for name in required_fields(view)
        if not values.get(name, "").strip()
    }


def form_event(body: Payload) -> FormSubmitted | None:
    """A ``view_submission`` of a clipdesk modal → :class:`FormSubmitted`, or ``None``."""
    view = body.get("view") or {}
    origin = FormOrigin.load(str(view.get("private_metadata") or ""), PLATFORM)
    if origin is None:
        return None
    # The workspace is the one Slack signed the submission for, never what the modal's metadata
    # says: a request of another workspace must stay out of reach whatever a payload carries.
    team = _team(body)
    target = replace(origin.target, workspace=team) if origin.target else ReplyTarget(PLATFORM, team, "")
    return FormSubmitted(
        target=target,
        actor=actor(str((body.get("user") or {}).get("id", ""))),
        action=origin.action,
        request_id=origin.request_id,
        values={k: v.strip() for k, v in form_values(view).items()},
        render_id=origin.render_id,
    )


# ------------------------------------------------------------------ Events API


@dataclass(frozen=True)
class IncomingMessage:
    """A person's message the bot may act on: a mention, a DM, or a reply in a thread.

    ``key`` identifies the message itself (channel and ``ts``), so the
    ``app_mention`` and ``message`` deliveries of one message, and every retry
    of either, collapse into one event in the core.
    """

    team: str
    channel: str
    ts: str
    thread_ts: str | None
    user: str
    text: str
    mention: bool
    direct: bool

    @property
    def key(self) -> str:
        return f"msg:{self.channel}:{self.ts}"

    @property
    def in_thread(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def thread_target(self) -> ReplyTarget:
        return ReplyTarget(PLATFORM, self.team, self.channel, self.thread_ts)

    def as_command(self) -> VideoCommand:
        """A new request; its thread starts with a fresh parent message in the channel."""
        return VideoCommand(
            target=ReplyTarget(PLATFORM, self.team, self.channel),
            actor=actor(self.user),
            text=self.text,
            event_id=self.key,
        )

    def as_reply(self) -> ThreadReply:
        return ThreadReply(
            target=self.thread_target, actor=actor(self.user), text=self.text, event_id=self.key
        )


def strip_mentions(text: str, bot_user_id: str | None) -> str:
    """Remove the bot's ``<@U…>`` mention(s) so the core sees only the ask."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    else:
        text = re.sub(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>", " ", text)
    return " ".join(text.split())


def message_event(body: Payload, bot_user_id: str | None) -> IncomingMessage | None:
    """An ``app_mention`` or ``message`` event from a person, or ``None`` (bots, edits, deletions)."""
    event = body.get("event") or {}
    kind = event.get("type")
    if kind not in ("app_mention", "message"):
        return None
    if event.get("subtype") not in _PERSON_SUBTYPES or event.get("bot_id") or not event.get("user"):
        return None
    if bot_user_id and event.get("user") == bot_user_id:
        return None
    thread = event.get("thread_ts")
    return IncomingMessage(
        team=str(body.get("team_id") or event.get("team") or ""),
        channel=str(event.get("channel", "")),
        ts=str(event.get("ts", "")),
        thread_ts=str(thread) if thread else None,
        user=str(event["user"]),
        text=strip_mentions(str(event.get("text") or ""), bot_user_id),
        mention=kind == "app_mention",
        direct=kind == "message" and event.get("channel_type") == "im",
    )
