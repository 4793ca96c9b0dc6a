"""Text that users and models wrote, made inert for Slack's mrkdwn.

Slack reads ``<…>`` as control sequences: ``<!channel>`` and ``<!here>``
notify everyone, ``<!subteam^S…>`` a user group, ``<@U…>`` a person, and
``<https://evil.example|the clip>`` shows a link whose target is hidden.
Slack's own escaping of ``&``, ``<`` and ``>`` as entities turns every one of
them into plain text. Only a mention of a user the message declares (see
:attr:`bot.messages.Message.mentions`) is left as a mention.

Text that came from Slack is already escaped (a typed ``<`` arrives as
``&lt;``), so existing entities are kept, not escaped twice.
"""

from __future__ import annotations

import re
from collections.abc import Collection

_TOKENS = re.compile(r"<@(?P<user>[UW][A-Z0-9]{2,})>|&(?:amp|lt|gt);|[&<>]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def inert_mrkdwn(text: str, mentions: Collection[str] | None) -> str:
    """``text`` with every control sequence escaped except mentions of ``mentions``.

    Args:
        text: mrkdwn that may hold what users or models wrote.
        mentions: User ids whose ``<@id>`` stays a mention; ``None`` keeps every plain ``<@U…>``.
    """

    def one(match: re.Match[str]) -> str:
        token = match[0]
        user = match["user"]
        if user is not None:
            return token if mentions is None or user in mentions else f"&lt;@{user}&gt;"
        return _ENTITIES.get(token, token)

    return _TOKENS.sub(one, text)
