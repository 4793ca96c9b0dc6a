"""The Bolt app: every ask is recorded before Slack is acknowledged; the rest runs after the ack.

Slack wants an answer within 3 seconds and does not resend a command it saw
acknowledged, so a new ask (a slash command, a mention, a DM) is first made a
row in the database (one transaction, see :meth:`bot.conversation.Conversation.receive`)
and only then acknowledged with "🎬 on it…". Moderation, refining and the
thread happen afterwards in tracked background tasks; if the process dies
there, the recovery sweep resumes the ask. Bolt runs with
``process_before_response`` so that the response really is sent after the
listener's durable step.
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

ON_IT = "🎬 on it…"
_OURS = re.compile(rf"^{ACTION_PREFIX}")


def build_bolt_app(
    *, client: AsyncWebClient, signing_secret: str | None, sink: EventSink, chat: SlackChat
) -> AsyncApp:
    """The clipdesk Slack app on ``client``; HTTP requests are verified with ``signing_secret``.

    Args:
        client: The bot's Web API client (shared with :class:`SlackChat`).
        signing_secret: Verifies every HTTP request; Socket Mode needs none.
        sink: Where events go (the durable step before the ack, the rest after it).
        chat: The chat port, told each slash command's ``response_url``.
    """
    bolt = AsyncApp(
        name="clipdesk",
        client=client,
        signing_secret=signing_secret or "",
        # Respond when the listener returns: after the ask is a row, never before.
        process_before_response=True,
    )

    async def on_command(ack: AsyncAck, body: dict[str, Any]) -> None:
        event = command_event(body)
        if body.get("response_url"):
            chat.remember_response_url(event.target.channel, event.actor.user_id, str(body["response_url"]))
        if event.subcommand is not None:
            await ack()  # the core answers help/status/usage/cancel itself, privately
            sink.submit(event)
            return
        receipt = await sink.receive(event)
        if receipt.request is not None:
            await ack(text=ON_IT, response_type="ephemeral")
            sink.follow_up(receipt)
        else:
            await ack()  # a mistake was answered privately, or this is a repeat

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

    async def on_message(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        message = message_event(body, context.bot_user_id)
        if message is not None:
            await sink.route_message(message)  # a new ask is recorded before Slack hears back
        await ack()

    # The manifest registers one command (/video); whatever name an operator gives it works.
    bolt.command(re.compile(r"^/"))(on_command)
    bolt.action(_OURS)(on_button)
    bolt.view(_OURS)(on_form)
    bolt.event("app_mention")(on_message)
    bolt.event("message")(on_message)
    return bolt
