"""``DiscordChat``: the core's ``ChatPort`` on Discord, through the bot token.

Everything the core posts goes out as the bot (``POST /channels/{id}/messages``),
never as an interaction follow-up: a render can outlive the 15-minute interaction
token, and a worker process has no interaction at all. Only ``notify`` uses the
interaction at hand, because an ephemeral message exists nowhere else.

Refs are ``"{channel_id}:{message_id}"`` (see ``refs``); a target's ``thread`` is the
thread's channel id.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import discord

from adapters.discord.components import Rendered, clip, form_modal, render
from adapters.discord.escaping import allowed_mentions
from adapters.discord.refs import message_ref, parse_ref
from adapters.discord.replies import AnswersFirst, InteractionReply, current_reply
from adapters.media.shrink import fit_to_size, human_size
from bot.domain import ReplyTarget
from bot.messages import Button, Form, Message
from bot.ports import MediaStore

log = logging.getLogger(__name__)

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # bots, in a server without boosts
THREAD_NAME_LIMIT = 100
THREAD_ARCHIVE_MINUTES: Literal[10080] = 10080  # a week: reviews can wait over a weekend
NONCE_LIMIT = 25
THREAD_ALREADY_CREATED = 160004  # Discord's error code: this message already has a thread
REMEMBERED_BUTTONS = 2048
_MENTION = re.compile(r"<[@#][!&]?\d+>")


class DiscordChat:
    """The ``ChatPort`` for Discord. ``client`` may be logged in without a gateway (workers)."""

    platform = "discord"

    def __init__(self, client: discord.Client, *, default_upload_limit: int = DEFAULT_UPLOAD_LIMIT) -> None:
        self._client = client
        self._default_upload_limit = default_upload_limit
        self._upload_limits: dict[str, int] = {}
        self._media: MediaStore | None = None
        # The buttons each message was last shown with, so an edit that drops them can show
        # them disabled instead (the decision stays readable). Seeded by clicks after a restart.
        self._buttons: OrderedDict[str, tuple[tuple[Button, ...], bool]] = OrderedDict()
        # Interactions still waiting to hear where their request's thread is, and each user's
        # latest interaction, so a notice sent from the outbox can still be ephemeral.
        self._awaiting_thread: dict[str, InteractionReply] = {}
        self._recent: OrderedDict[str, InteractionReply] = OrderedDict()
        # Thread posts wait while interactions are being answered (a 3 s deadline; posts have none).
        self.answers = AnswersFirst()

    def expect_thread(self, request_id: str, reply: InteractionReply) -> None:
        """``reply`` said "on it": point it at the thread once the request's thread is opened."""
        self._awaiting_thread[request_id] = reply
        self.remember_reply(reply)

    def remember_reply(self, reply: InteractionReply) -> None:
        self._recent[reply.user_id] = reply
        self._recent.move_to_end(reply.user_id)
        while len(self._recent) > REMEMBERED_BUTTONS:
            self._recent.popitem(last=False)

    # ------------------------------------------------------------------ wiring

    def bind_media(self, media: MediaStore) -> None:
        """Where clips live, for a link when one is too big to attach."""
        self._media = media

    def learn_upload_limit(self, guild_id: int | str | None, limit: int | None) -> None:
        """Interactions carry the server's attachment limit; remember it for later uploads."""
        if guild_id and limit and limit > 0:
            self._upload_limits[str(guild_id)] = int(limit)

    def upload_limit(self, target: ReplyTarget) -> int:
        known = self._upload_limits.get(target.workspace)
        if known:
            return known
        guild = self._client.get_guild(int(target.workspace)) if target.workspace.isdigit() else None
        return guild.filesize_limit if guild is not None else self._default_upload_limit

    def remember_buttons(self, ref: str, buttons: tuple[Button, ...], *, disabled: bool = False) -> None:
        self._buttons[ref] = (buttons, disabled)
        self._buttons.move_to_end(ref)
        while len(self._buttons) > REMEMBERED_BUTTONS:
            self._buttons.popitem(last=False)

    # ------------------------------------------------------------------ ChatPort

    async def start_thread(
        self, target: ReplyTarget, message: Message, *, key: str | None = None
    ) -> tuple[ReplyTarget, str]:
        """Post the ask in the channel and open a public thread from it (one thread per request)."""
        await self.answers.wait()
        channel = await self._channel(int(target.channel))
        rendered = render(message)
        kwargs = rendered.send_kwargs()
        if key:
            kwargs["nonce"] = nonce_of(key)  # a resent parent is the same message (enforce_nonce)
        if isinstance(channel, discord.TextChannel):
            parent = await channel.send(**kwargs)
            thread_id = await self._thread_from(parent, thread_name(message.text))
            thread_target = target.in_thread(str(thread_id))
            ref = message_ref(channel.id, parent.id)
        else:
            # Forum posts, voice-channel chats, threads whose parent we cannot post in: stay put.
            where = self._messageable(target)
            sent = await where.send(**kwargs)
            thread_target = target.in_thread(str(where.id))
            ref = message_ref(where.id, sent.id)
        self.remember_buttons(ref, message.buttons)
        request_id = (key or "").removeprefix("thread:")
        waiting = self._awaiting_thread.pop(request_id, None) or current_reply.get()
        if waiting is not None and waiting.usable():
            waiting.thread_id = thread_target.thread
            await waiting.edit_original(f"🎬 On it — follow along in <#{thread_target.thread}>.")
        return thread_target, ref

    async def post(self, target: ReplyTarget, message: Message, *, key: str | None = None) -> str:
        await self.answers.wait()
        return await self._send(target, render(message), message.buttons, key=key)

    async def update(self, target: ReplyTarget, ref: str, message: Message) -> None:
        await self.answers.wait()
        channel_id, message_id = parse_ref(ref)
        buttons, disabled = message.buttons, False
        previous = self._buttons.get(ref)
        if not message.buttons and previous and previous[0]:
            # The decision is made (or the brief is confirmed): keep the buttons, greyed out.
            buttons, disabled = previous[0], True
        rendered = render(message, buttons=buttons, disabled=disabled)
        partial = self._client.get_partial_messageable(channel_id).get_partial_message(message_id)
        await partial.edit(**rendered.edit_kwargs())
        self.remember_buttons(ref, buttons, disabled=disabled)

    async def upload_clip(
        self,
        target: ReplyTarget,
        clip: Path,
        message: Message,
        *,
        key: str | None = None,
        attachments: Sequence[Path] = (),
    ) -> str:
        """Attach the MP4 and its captions; over the upload limit, a re-encode that fits, else a link."""
        await self.answers.wait()
        limit = self.upload_limit(target)
        size = (await asyncio.to_thread(clip.stat)).st_size
        extra = tuple(attachments)
        if size + sum([(await asyncio.to_thread(p.stat)).st_size for p in extra]) <= limit:
            try:
                return await self._send(
                    target, render(message), message.buttons, key=key, file=clip, extra=extra
                )
            except discord.HTTPException as exc:
                if not _too_large(exc):
                    raise
                log.info("upload of %s (%d bytes) refused as too large; shrinking", clip, size)
                limit = min(limit, int(size * 0.9))
        return await self._upload_over_limit(target, clip, message, size, limit, key)

    async def _upload_over_limit(
        self, target: ReplyTarget, clip: Path, message: Message, size: int, limit: int, key: str | None
    ) -> str:
        fitted = await fit_to_size(clip, limit)
        if fitted is not None:
            link = self._link(clip)
            original = f"[original, {human_size(size)}]({link})" if link else f"original {human_size(size)}"
            note = (
                f"📦 Re-encoded to {fitted.plan.width}×{fitted.plan.height} to fit this server's "
                f"{human_size(limit)} upload limit ({original})."
            )
            try:
                rendered = render(message, note=note)
                return await self._send(target, rendered, message.buttons, key=key, file=fitted.path)
            except discord.HTTPException as exc:
                if not _too_large(exc):
                    raise
        too_big = (
            f"at {human_size(size)} it is over this server's {human_size(limit)} upload limit, "
            "and shrinking it that far would ruin it."
        )
        link = self._link(clip)
        if link:
            note = f"🔗 **[Watch the clip]({link})** — {too_big}"
        else:
            # Still never lost: reviewers can decide, and an operator can fetch the file.
            note = (
                f"🔗 The clip is saved on the clipdesk server as `{clip.name}`; {too_big} "
                "(Set CLIPDESK_PUBLIC_URL to link clips here.)"
            )
        return await self._send(target, render(message, note=note), message.buttons, key=key)

    async def notify(self, target: ReplyTarget, user_id: str, message: Message) -> None:
        """Ephemeral to the user of the interaction at hand; otherwise a message that mentions them."""
        reply = current_reply.get() or self._recent.get(user_id)
        rendered = render(message)
        if reply is not None and reply.user_id == user_id and reply.usable():
            try:
                await reply.whisper(rendered)
                return
            except discord.HTTPException as exc:
                log.warning("ephemeral notice to %s failed (%s); mentioning them instead", user_id, exc)
        rendered.content = clip(f"<@{user_id}> {rendered.content}", 2000)
        # The one person this notice is for, plus whoever the message itself names on purpose.
        rendered.mentions = allowed_mentions((*(message.mentions or ()), user_id))
        await self._messageable(target).send(**rendered.send_kwargs())

    async def open_form(self, trigger: Any, form: Form) -> None:
        """Show ``form`` as a modal; it must be the interaction's first answer (see ``handlers``)."""
        reply = trigger if isinstance(trigger, InteractionReply) else current_reply.get()
        if reply is None:
            raise LookupError("a Discord form needs the interaction that asked for it")
        if not await reply.open_modal(form_modal(form)):
            await reply.whisper(
                Rendered("⏱️ That took too long to open the form. Press the button again.", None, None)
            )

    # ------------------------------------------------------------------ helpers

    async def _send(
        self,
        target: ReplyTarget,
        rendered: Rendered,
        buttons: tuple[Button, ...],
        *,
        key: str | None = None,
        file: Path | None = None,
        extra: Sequence[Path] = (),
    ) -> str:
        where = self._messageable(target)
        kwargs = rendered.send_kwargs()
        if key:
            # Discord drops a second message with the same nonce from the same author (enforce_nonce).
            kwargs["nonce"] = nonce_of(key)
        if file is not None and extra:  # the clip and its captions in one message
            kwargs["files"] = [discord.File(p, filename=p.name) for p in (file, *extra)]
        elif file is not None:
            kwargs["file"] = discord.File(file, filename=file.name)
        sent = await where.send(**kwargs)
        ref = message_ref(where.id, sent.id)
        self.remember_buttons(ref, buttons)
        return ref

    async def _thread_from(self, parent: discord.Message, name: str) -> int:
        """Open the thread of ``parent``; if a delivery that died already opened it, that thread."""
        try:
            thread = await parent.create_thread(name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES)
        except discord.HTTPException as exc:
            if exc.code != THREAD_ALREADY_CREATED:
                raise
            return parent.id  # a thread started from a message has the message's id
        return thread.id

    def _messageable(self, target: ReplyTarget) -> discord.PartialMessageable:
        channel_id = int(target.thread or target.channel)
        guild_id = int(target.workspace) if target.workspace.isdigit() else None
        return self._client.get_partial_messageable(channel_id, guild_id=guild_id)

    async def _channel(self, channel_id: int) -> Any:
        channel = self._client.get_channel(channel_id)
        if channel is None:
            channel = await self._client.fetch_channel(channel_id)
        return channel

    def _link(self, clip: Path) -> str | None:
        """A link people in Discord can open, or ``None`` (no ``CLIPDESK_PUBLIC_URL``)."""
        if self._media is None:
            return None
        try:
            url = self._media.url_for(clip)
        except ValueError:  # not under the media store's root
            return None
        return url if url.startswith(("https://", "http://")) else None


def nonce_of(key: str) -> str:
    """A Discord nonce for an outbox key (at most 25 characters)."""
    return hashlib.sha256(key.encode()).hexdigest()[:NONCE_LIMIT]


def thread_name(text: str) -> str:
    """A thread title from the parent message: the ask itself, without the mentions."""
    ask = _MENTION.sub("", text)
    if ": " in ask:
        ask = ask.split(": ", 1)[1]
    ask = " ".join(ask.split()) or "video request"
    return clip(f"🎬 {ask}", THREAD_NAME_LIMIT)


def _too_large(exc: discord.HTTPException) -> bool:
    return exc.status == 413 or exc.code == 40005
