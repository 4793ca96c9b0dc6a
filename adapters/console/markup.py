"""The core's light markup (``*bold*``, ``_italic_``, `` `code` ``, ``<@user>``) as a terminal shows it.

Everything is escaped for rich first, so what users and models wrote can never become
terminal markup; then the few marks the core's messages use are turned into styles.
"""

from __future__ import annotations

import re

from rich.markup import escape

_MENTION = re.compile(r"<[@#!]([^<>|\s]+)(?:\|([^<>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")


def to_rich(text: str) -> str:
    """``text`` as rich markup: mentions as ``@name``, the core's marks as styles, the rest literal."""
    text = _MENTION.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    text = escape(text)
    text = _CODE.sub(r"[cyan]\1[/cyan]", text)
    text = _BOLD.sub(r"[bold]\1[/bold]", text)
    return _ITALIC.sub(r"[italic]\1[/italic]", text)
