"""The Bolt app: every listener acks first, then hands the work to the :class:`EventSink`.

Slack wants an answer within 3 seconds; the core may take longer (refining,
database, Web API calls), so nothing but parsing happens before ``ack()``.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import ACTION_PREFIX
from adapters.slack.chat import SlackChat
from adapters.slack.events import button_event, command_event, form_errors, form_event, message_event
from adapters.slack.sink import EventSink
from bot.conversation import SUBCOMMANDS

ON_IT = "🎬 on it…"
_OURS = re.compile(rf"^{ACTION_PREFIX}")


def build_bolt_app(
    *, client: AsyncWebClient, signing_secret: str | None, sink: EventSink, chat: SlackChat
) -> AsyncApp:
    """The clipdesk Slack app on ``client``; HTTP requests are verified with ``signing_secret``.

    Args:
        client: The bot's Web API client (shared with :class:`SlackChat`).
        signing_secret: Verifies every HTTP request; Socket Mode needs none.
        sink: Where events go after the ack.
        chat: The chat port, told each slash command's ``response_url``.
    """
    bolt = AsyncApp(
        name="clipdesk",
        client=client,
        signing_secret=signing_secret or "",
        # Ack as soon as the listener calls ack(); the listener body never waits for the core.
        process_before_response=False,
    )

    async def on_command(ack: AsyncAck, body: dict[str, Any]) -> None:
        event = command_event(body)
        if event.text.strip().lower() in SUBCOMMANDS:
            await ack()  # the core answers help/status/usage/cancel itself, privately
        else:
            await ack(text=ON_IT, response_type="ephemeral")
        if body.get("response_url"):
            chat.remember_response_url(event.target.channel, event.actor.user_id, str(body["response_url"]))
        sink.submit(event)

    async def on_button(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        event = button_event(body)
        if event is not None:
            sink.submit(event)

    async def on_form(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        errors = form_errors(view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        event = form_event(body)
        if event is not None:
            sink.submit(event)

    async def on_message(body: dict[str, Any], context: AsyncBoltContext) -> None:
        # Events API listeners are acked by Bolt before they run.
        message = message_event(body, context.bot_user_id)
        if message is not None:
            sink.submit_message(message)

    # The manifest registers one command (/video); whatever name an operator gives it works.
    bolt.command(re.compile(r"^/"))(on_command)
    bolt.action(_OURS)(on_button)
    bolt.view(_OURS)(on_form)
    bolt.event("app_mention")(on_message)
    bolt.event("message")(on_message)
    return bolt
