"""An in-memory chat platform that records everything the core says."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain import ReplyTarget
from bot.messages import Form, Message


@dataclass
class Said:
    kind: str
    target: ReplyTarget
    message: Message
    ref: str
    user: str | None = None
    clip: Path | None = None
    updates: list[Message] = field(default_factory=list)
    attachments: tuple[Path, ...] = ()


class RecordingChat:
    def __init__(self, platform: str = "test") -> None:
        self.platform = platform
        self.said: list[Said] = []
        self.forms: list[tuple[Any, Form]] = []
        self._ids = itertools.count(1)
        self._by_ref: dict[str, Said] = {}
        self.fail_uploads = 0
        self.fail_threads = 0

    def _add(self, said: Said) -> str:
        self.said.append(said)
        self._by_ref[said.ref] = said
        return said.ref

    async def start_thread(
        self, target: ReplyTarget, message: Message, *, key: str | None = None
    ) -> tuple[ReplyTarget, str]:
        if self.fail_threads:
            self.fail_threads -= 1
            raise PermissionError("not_in_channel")
        ref = f"t{next(self._ids)}"
        self._add(Said("parent", target, message, ref))
        return target.in_thread(ref), ref

    async def post(self, target: ReplyTarget, message: Message, *, key: str | None = None) -> str:
        return self._add(Said("post", target, message, f"m{next(self._ids)}"))

    async def update(self, target: ReplyTarget, ref: str, message: Message) -> None:
        self._by_ref[ref].updates.append(message)

    async def upload_clip(
        self,
        target: ReplyTarget,
        clip: Path,
        message: Message,
        *,
        key: str | None = None,
        attachments: Sequence[Path] = (),
    ) -> str:
        if self.fail_uploads:
            self.fail_uploads -= 1
            raise ConnectionError("upload failed")
        said = Said("clip", target, message, f"c{next(self._ids)}", clip=clip, attachments=tuple(attachments))
        return self._add(said)

    async def notify(self, target: ReplyTarget, user_id: str, message: Message) -> None:
        self._add(Said("notice", target, message, f"n{next(self._ids)}", user=user_id))

    async def open_form(self, trigger: Any, form: Form) -> None:
        self.forms.append((trigger, form))

    def of_kind(self, kind: str) -> list[Said]:
        return [s for s in self.said if s.kind == kind]

    def notices_to(self, user: str) -> list[str]:
        return [s.message.plain() for s in self.said if s.kind == "notice" and s.user == user]

    def texts(self) -> list[str]:
        return [s.message.plain() for s in self.said]

    def ref(self, ref: str) -> Said:
        return self._by_ref[ref]


class FileChat(RecordingChat):
    """A recording chat that also appends every post and upload to a file, for cross-process checks."""

    def __init__(self, path: Path, platform: str = "test") -> None:
        super().__init__(platform)
        self.path = path

    def _add(self, said: Said) -> str:
        import json

        with self.path.open("a") as fh:
            fh.write(
                json.dumps(
                    {
                        "kind": said.kind,
                        "text": said.message.text,
                        "thread": said.target.thread,
                        "clip": str(said.clip) if said.clip else None,
                    }
                )
                + "\n"
            )
        return super()._add(said)


def read_file_chat(path: Path) -> list[dict[str, Any]]:
    import json

    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
