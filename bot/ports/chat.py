"""The chat port: post into a request's thread, update a message, upload a clip, tell one person."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from bot.domain import ReplyTarget
from bot.messages import Form, Message


@runtime_checkable
class ChatPort(Protocol):
    """One chat platform. ``ref`` values are opaque message references the adapter understands.

    ``key`` on every posting call names the outbox delivery it comes from: an adapter uses it
    to find or drop a message it already posted for that delivery (Slack message metadata,
    Discord's enforced nonce), so a delivery retried after a crash posts once.
    """

    platform: str

    async def start_thread(
        self, target: ReplyTarget, message: Message, *, key: str | None = None
    ) -> tuple[ReplyTarget, str]:
        """Post the parent message of a request; return the thread's target and the message ref."""
        ...

    async def post(self, target: ReplyTarget, message: Message, *, key: str | None = None) -> str:
        """Post into the thread; ``key`` lets an adapter drop a duplicate of the same delivery."""
        ...

    async def update(self, target: ReplyTarget, ref: str, message: Message) -> None: ...

    async def upload_clip(
        self,
        target: ReplyTarget,
        clip: Path,
        message: Message,
        *,
        key: str | None = None,
        attachments: Sequence[Path] = (),
    ) -> str:
        """Upload the MP4 into the thread with the message beside it; return the message ref.

        ``attachments`` go with the clip (an explainer's .vtt and .srt captions).
        """
        ...

    async def notify(self, target: ReplyTarget, user_id: str, message: Message) -> None:
        """Tell one user something only they see (ephemeral)."""
        ...

    async def open_form(self, trigger: Any, form: Form) -> None: ...
