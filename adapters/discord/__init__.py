"""Discord: the `/video` app command, a thread per request and role-based review (discord.py 2.x).

Modules, one concern each:

- ``platform``: :func:`~adapters.discord.platform.discord_platform`, what ``clipdesk serve`` starts;
- ``client``: the ``discord.Client`` (or ``AutoShardedClient``) and its gateway listeners;
- ``commands``: ``/video`` with typed options, ``/video-status``, ``/video-usage``,
  ``/video-cancel``, ``/video-help``;
- ``handlers``: answer every interaction inside Discord's 3 seconds, then run the core;
- ``events``: interactions and messages → the core's typed events;
- ``components``: core messages → content, embed and persistent buttons; forms → modals;
- ``chat``: :class:`~adapters.discord.chat.DiscordChat`, the ``ChatPort`` through the bot token;
- ``replies``: the one interaction a core call is answering, and how to answer it once;
- ``refs``: message references (``"channel_id:message_id"``).
"""
