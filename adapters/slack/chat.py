"""SlackChat: the core's :class:`bot.ports.ChatPort` on the Slack Web API.

Message refs are ``"{channel}:{ts}"``. A request's parent message is posted
with ``chat.postMessage``; everything after it goes into its thread
(``thread_ts``). Status lines are updated in place with ``chat.update``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.runtime.answers import AnswersFirst
from adapters.slack import PLATFORM
from adapters.slack.blocks import Block, fallback_text, form_view, link_blocks, message_blocks
from adapters.slack.client import for_uploads
from adapters.slack.events import SlackTrigger
from bot.domain import ReplyTarget
from bot.errors import UserError
from bot.messages import Form, Message
from bot.outbox import hold_delivery

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_BYTES = 1024**3  # Slack's limit for one file (1 GB)
RESPONSE_URL_SECONDS = 30 * 60  # Slack accepts a slash command's response_url for 30 minutes
_NOT_A_MEMBER = {"not_in_channel", "channel_not_found"}
_KEYS_KEPT = 2048
METADATA_EVENT = "clipdesk_request"  # message metadata naming the request a parent message opened
CLIP_METADATA_EVENT = "clipdesk_clip"  # message metadata naming the delivery a clip's details message made
THREAD_LOOKBACK = 200  # a request's thread messages searched for a clip posted before a crash
PARENT_LOOKBACK = 100  # recent channel messages searched for a parent posted before a crash
T = TypeVar("T")


def make_ref(channel: str, ts: str) -> str:
    return f"{channel}:{ts}"


def split_ref(ref: str) -> tuple[str, str]:
    """``"C123:1700000000.000100"`` → ``("C123", "1700000000.000100")``."""
    channel, sep, ts = ref.partition(":")
    if not sep or not channel or not ts:
        raise ValueError(f"not a Slack message ref: {ref!r}")
    return channel, ts


def _size(size: float) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size / 1024:,.0f} KB"


def _error_code(exc: SlackApiError) -> str:
    try:
        return str(exc.response.get("error", ""))
    except Exception:
        return ""


def is_too_large(exc: Exception) -> bool:
    """Whether an upload failed because of the file's size (then a link is posted instead)."""
    if isinstance(exc, SlackApiError):
        code = _error_code(exc)
        return "too_large" in code or code == "file_size_exceeded"
    text = str(exc)
    return "status: 413" in text or "Maximum upload file size" in text


class SlackChat:
    """Post, update, upload and notify in Slack threads.

    Args:
        client: The bot's Web API client (see :func:`adapters.slack.client.web_client`).
        max_upload_bytes: Clips larger than this are linked, not uploaded.
        link_for: Turns a clip's path into a URL people can open (the media store's ``url_for``).
    """

    platform = PLATFORM

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        link_for: Callable[[Path], str] | None = None,
    ) -> None:
        self.client = client
        self.max_upload_bytes = max_upload_bytes
        self.link_for = link_for
        # Set in HTTP mode: thread posts wait while acks are in flight (adapters.runtime.answers).
        self.answers: AnswersFirst | None = None
        self._uploads = for_uploads(client)
        self._sent: OrderedDict[str, str] = OrderedDict()
        self._uploaded: OrderedDict[str, None] = OrderedDict()
        self._response_urls: dict[tuple[str, str], tuple[float, str]] = {}
        self._prune_response_urls_at = 0.0

    async def _answers_first(self) -> None:
        if self.answers is not None:
            await self.answers.wait()

    # ------------------------------------------------------------------ ChatPort

    async def start_thread(
        self, target: ReplyTarget, message: Message, *, key: str | None = None
    ) -> tuple[ReplyTarget, str]:
        """Post the parent message once: it carries ``key`` as message metadata, and a parent already
        posted with that key (by a delivery that died before recording it) is found and reused."""
        await self._answers_first()
        try:
            found = await self._parent_with_key(target.channel, key) if key else None
            if found is not None:
                channel, ts = target.channel, found
            else:
                await hold_delivery()  # still ours: no other process posts this parent meanwhile
                metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key else None
                channel, ts = await self._post(target.channel, None, message, metadata=metadata)
        except SlackApiError as exc:
            if _error_code(exc) in _NOT_A_MEMBER:
                raise UserError(
                    "I can't post in this channel yet. Invite me with `/invite @clipdesk` "
                    "(or ask in a channel I'm in), then try again."
                ) from exc
            raise
        return ReplyTarget(target.platform, target.workspace, channel, ts), make_ref(channel, ts)

    async def post(self, target: ReplyTarget, message: Message, *, key: str | None = None) -> str:
        if key and key in self._sent:
            return self._sent[key]
        await self._answers_first()
        await hold_delivery()
        channel, ts = await self._post(target.channel, target.thread, message)
        return self._remember(key, make_ref(channel, ts), self._sent)

    async def update(self, target: ReplyTarget, ref: str, message: Message) -> None:
        channel, ts = split_ref(ref)
        await self._answers_first()
        await self.client.chat_update(
            channel=channel, ts=ts, text=fallback_text(message), blocks=message_blocks(message)
        )

    async def upload_clip(
        self,
        target: ReplyTarget,
        clip: Path,
        message: Message,
        *,
        key: str | None = None,
        attachments: Sequence[Path] = (),
    ) -> str:
        """Upload the MP4 into the thread, then post the details and buttons under it.

        The returned ref is the details message, so a decision can update it in
        place. A clip over the upload limit, or one Slack refuses as too large,
        is posted as a link with a note; it is never dropped.
        """
        if key and key in self._sent:
            return self._sent[key]
        await self._answers_first()
        if key and target.thread:
            # A delivery killed after posting but before the outbox recorded it (another process
            # retries it, with an empty memory): the thread itself says whether the clip is there.
            found = await self._reply_with_key(target.channel, target.thread, key)
            if found is not None:
                return self._remember(key, make_ref(target.channel, found), self._sent)
        # Not posted yet, and (if this is an outbox delivery) still ours to post: a process that
        # stalled past its lease must not post beside the one that took the delivery over.
        await hold_delivery()
        metadata = {"event_type": CLIP_METADATA_EVENT, "event_payload": {"key": key}} if key else None
        size = (await asyncio.to_thread(clip.stat)).st_size
        note: str | None = None
        if size > self.max_upload_bytes:
            note = (
                f"The clip is {_size(size)}, over the {_size(self.max_upload_bytes)} upload limit here, "
                "so it is linked instead of uploaded."
            )
        elif not (key and key in self._uploaded):
            try:
                await self._upload(target, clip, message, attachments)
            except (SlackApiError, SlackRequestError) as exc:
                if not is_too_large(exc):
                    raise
                log.warning("Slack refused %s (%s) as too large: %s", clip.name, _size(size), exc)
                note = f"Slack refused the {_size(size)} file as too large, so it is linked instead."
            else:
                # If posting the details fails now, the outbox retries: don't upload the file twice.
                self._remember(key, None, self._uploaded)
        await hold_delivery()  # the upload may have taken long: still ours before the details go out
        if note is None:
            channel, ts = await self._post(target.channel, target.thread, message, metadata=metadata)
        else:
            blocks = link_blocks(message, self._link(clip), note)
            channel, ts = await self._post(
                target.channel, target.thread, message, blocks=blocks, metadata=metadata
            )
        return self._remember(key, make_ref(channel, ts), self._sent)

    async def notify(self, target: ReplyTarget, user_id: str, message: Message) -> None:
        """An ephemeral message in the thread; via the slash command's response_url if the bot can't post."""
        kwargs: dict[str, Any] = {}
        if target.thread:
            kwargs["thread_ts"] = target.thread
        try:
            await self.client.chat_postEphemeral(
                channel=target.channel,
                user=user_id,
                text=fallback_text(message),
                blocks=message_blocks(message),
                **kwargs,
            )
        except SlackApiError as exc:
            url = self._response_url(target.channel, user_id)
            if _error_code(exc) not in _NOT_A_MEMBER or url is None:
                raise
            await AsyncWebhookClient(url).send(
                text=fallback_text(message), blocks=message_blocks(message), response_type="ephemeral"
            )

    async def open_form(self, trigger: Any, form: Form) -> None:
        """Open a modal with ``views.open``; ``trigger`` is a :class:`SlackTrigger` (or a bare trigger id)."""
        if isinstance(trigger, SlackTrigger):
            trigger_id, origin = trigger.trigger_id, trigger.target
        else:
            trigger_id, origin = str(trigger), None
        await self.client.views_open(trigger_id=trigger_id, view=form_view(form, origin))

    # ------------------------------------------------------------------ slash command replies

    def remember_response_url(self, channel: str, user_id: str, url: str) -> None:
        """Keep a slash command's ``response_url``: the one way to answer where the bot is not a member."""
        now = time.monotonic()
        if now >= self._prune_response_urls_at:
            # Expired ones are dropped once a minute, not on every command: copying the whole map
            # per command made a burst of commands quadratic.
            self._response_urls = {k: v for k, v in self._response_urls.items() if v[0] > now}
            self._prune_response_urls_at = now + 60.0
        self._response_urls[(channel, user_id)] = (now + RESPONSE_URL_SECONDS, url)

    def _response_url(self, channel: str, user_id: str) -> str | None:
        entry = self._response_urls.get((channel, user_id))
        return entry[1] if entry and entry[0] > time.monotonic() else None

    # ------------------------------------------------------------------ helpers

    async def _parent_with_key(self, channel: str, key: str) -> str | None:
        """The ``ts`` of a recent top-level message of ours carrying ``key`` in its metadata."""
        history = await self.client.conversations_history(
            channel=channel, limit=PARENT_LOOKBACK, include_all_metadata=True
        )
        for item in history.get("messages") or []:
            meta = item.get("metadata") or {}
            if (
                meta.get("event_type") == METADATA_EVENT
                and (meta.get("event_payload") or {}).get("key") == key
            ):
                return str(item["ts"])
        return None

    async def _reply_with_key(self, channel: str, thread: str, key: str) -> str | None:
        """The ``ts`` of a reply of ours in ``thread`` carrying ``key`` in its metadata."""
        replies = await self.client.conversations_replies(
            channel=channel, ts=thread, limit=THREAD_LOOKBACK, include_all_metadata=True
        )
        for item in replies.get("messages") or []:
            meta = item.get("metadata") or {}
            if (
                meta.get("event_type") == CLIP_METADATA_EVENT
                and (meta.get("event_payload") or {}).get("key") == key
            ):
                return str(item["ts"])
        return None

    async def _post(
        self,
        channel: str,
        thread: str | None,
        message: Message,
        *,
        blocks: list[Block] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> tuple[str, str]:
        kwargs: dict[str, Any] = {}
        if thread:
            kwargs["thread_ts"] = thread
        if metadata:
            kwargs["metadata"] = metadata
        response = await self.client.chat_postMessage(
            channel=channel,
            text=fallback_text(message),
            blocks=blocks if blocks is not None else message_blocks(message),
            unfurl_links=False,
            unfurl_media=False,
            **kwargs,
        )
        return str(response.get("channel") or channel), str(response["ts"])

    async def _upload(
        self, target: ReplyTarget, clip: Path, message: Message, attachments: Sequence[Path] = ()
    ) -> None:
        # files_upload_v2 reads a path synchronously; read it off the event loop instead.
        data = await asyncio.to_thread(clip.read_bytes)
        kwargs: dict[str, Any] = {}
        if target.thread:
            kwargs["thread_ts"] = target.thread
        if not attachments:
            await self._uploads.files_upload_v2(
                file=data, filename=clip.name, title=message.text, channel=target.channel, **kwargs
            )
            return
        # the clip and its captions as one upload, so they share one message in the thread
        uploads = [{"content": data, "filename": clip.name, "title": message.text}]
        for path in attachments:
            content = await asyncio.to_thread(path.read_bytes)
            uploads.append({"content": content, "filename": path.name, "title": _caption_title(path)})
        await self._uploads.files_upload_v2(file_uploads=uploads, channel=target.channel, **kwargs)

    def _link(self, clip: Path) -> str | None:
        if self.link_for is None:
            return None
        try:
            url = self.link_for(clip)
        except ValueError:
            return None
        return url if url.startswith(("http://", "https://")) else None

    @staticmethod
    def _remember(key: str | None, value: T, memory: OrderedDict[str, T]) -> T:
        # The outbox hands the same key again when it could not record a delivery; post it once.
        if key:
            memory[key] = value
            while len(memory) > _KEYS_KEPT:
                memory.popitem(last=False)
        return value


def _caption_title(path: Path) -> str:
    """ "rnd_1.es.vtt" → "Captions (es, WebVTT)"."""
    parts = path.name.split(".")
    language = parts[-2] if len(parts) >= 3 else ""
    kind = {"vtt": "WebVTT", "srt": "SRT"}.get(parts[-1], parts[-1])
    return f"Captions ({language}, {kind})" if language else f"Captions ({kind})"
