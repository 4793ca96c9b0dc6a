"""Text that users and models wrote, made inert for Discord.

Two layers. ``allowed_mentions`` decides who is notified: nobody unless a
message declares the users it means (:attr:`bot.messages.Message.mentions`),
never ``@everyone``, ``@here`` or roles (the client's default is "none").
The text is also neutralised so it reads as what was written, not as
something the bot did: ``@everyone``/``@here`` and role and undeclared user
mentions are broken with a zero-width space, a masked link
``[the clip](https://evil.example)`` shows its real target, and a heading at
the start of a line cannot pose as the bot's own headline. Emphasis and code
stay: the core writes those itself, and they cannot mislead.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import discord

ZWSP = "\u200b"
_BROADCAST = re.compile(r"@(everyone|here)")
_ROLE = re.compile(r"<@&(\d+)>")
_USER = re.compile(r"<@!?(\d+)>")
_MASKED_LINK = re.compile(r"\[([^\[\]\n]*)\]\(")
_HEADING = re.compile(r"^([ \t]*)(#{1,3} |-# )", re.MULTILINE)


def inert_markdown(text: str, mentions: Collection[str] | None) -> str:
    """``text`` with mentions, broadcasts, masked links and headings shown as written.

    Args:
        text: Discord markdown that may hold what users or models wrote.
        mentions: User ids whose ``<@id>`` stays a mention; ``None`` leaves plain user mentions
            (they still notify nobody, see :func:`allowed_mentions`).
    """
    text = _BROADCAST.sub(rf"@{ZWSP}\1", text)
    text = _ROLE.sub(rf"<@{ZWSP}&\1>", text)
    if mentions is not None:
        text = _USER.sub(lambda m: m[0] if m[1] in mentions else f"<@{ZWSP}{m[0][2:]}", text)
    text = _MASKED_LINK.sub(r"\\[\1\\](", text)
    return _HEADING.sub(r"\1\\\2", text)


def allowed_mentions(mentions: Collection[str] | None) -> discord.AllowedMentions | None:
    """Who a message may notify: exactly ``mentions``; ``None`` keeps the client's default (nobody)."""
    if mentions is None:
        return None
    users = [discord.Object(int(user)) for user in mentions if user.isdigit()]
    return discord.AllowedMentions(everyone=False, users=users, roles=False, replied_user=False)
