"""The console as a chat platform: one terminal thread, printed as it happens."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from adapters.console.markup import to_rich
from bot.domain import ReplyTarget
from bot.messages import Action, Form, Message

PLATFORM = "console"


@dataclass
class Posted:
    """What the console adapter has shown, kept for the CLI and tests."""

    ref: str
    kind: str
    message: Message
    clip: Path | None = None
    private_to: str | None = None
    updates: list[Message] = field(default_factory=list)
    attachments: tuple[Path, ...] = ()  # captions that went with a clip


class ConsoleChat:
    """A :class:`bot.ports.ChatPort` that prints to a terminal."""

    platform = PLATFORM

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self.posts: dict[str, Posted] = {}
        self.forms: list[Form] = []
        self._ids = itertools.count(1)
        self._keys: dict[str, str] = {}
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._progress_ref: str | None = None

    def _ref(self) -> str:
        return f"m{next(self._ids)}"

    def _print(self, message: Message, prefix: str = "") -> None:
        self._end_progress()
        self.console.print(f"{prefix}[bold]{to_rich(message.text)}[/bold]")
        if message.body:
            self.console.print(to_rich(message.body))
        for f in message.fields:
            self.console.print(f"  [dim]{escape(f.label)}:[/dim] {to_rich(f.value)}")
        if message.buttons:
            labels = "  ".join(f"[reverse] {escape(b.label)} [/reverse]" for b in message.buttons)
            self.console.print(f"  {labels}")
        for picker in message.pickers:  # typed here: `regenerate shot 3`, `edit shot 3 <words>`
            verb = "edit shot N <words>" if picker.action == Action.EDIT_SHOT else "regenerate shot N"
            self.console.print(f"  [dim]{escape(picker.placeholder)} type `{verb}`[/dim]")
        if message.context:
            self.console.print(f"  [dim]{to_rich(message.context)}[/dim]")

    async def start_thread(
        self, target: ReplyTarget, message: Message, *, key: str | None = None
    ) -> tuple[ReplyTarget, str]:
        ref = self._ref()
        self.posts[ref] = Posted(ref, "parent", message)
        self._print(message)
        return target.in_thread(ref), ref

    async def post(self, target: ReplyTarget, message: Message, *, key: str | None = None) -> str:
        if key and key in self._keys:
            return self._keys[key]
        ref = self._ref()
        self.posts[ref] = Posted(ref, "message", message)
        if key:
            self._keys[key] = ref
        self._print(message, "  ↳ ")
        return ref

    async def update(self, target: ReplyTarget, ref: str, message: Message) -> None:
        posted = self.posts.get(ref)
        if posted is not None:
            posted.updates.append(message)
        if message.progress is not None:
            self._show_progress(ref, message)
            return
        self._print(message, "  ↻ ")

    async def upload_clip(
        self,
        target: ReplyTarget,
        clip: Path,
        message: Message,
        *,
        key: str | None = None,
        attachments: Sequence[Path] = (),
    ) -> str:
        if key and key in self._keys:
            return self._keys[key]
        ref = self._ref()
        self.posts[ref] = Posted(ref, "clip", message, clip=clip, attachments=tuple(attachments))
        if key:
            self._keys[key] = ref
        self._print(message, "  ↳ ")
        self.console.print(f"  📎 {clip}")
        for path in attachments:
            self.console.print(f"  📎 {path}")
        return ref

    async def notify(self, target: ReplyTarget, user_id: str, message: Message) -> None:
        ref = self._ref()
        self.posts[ref] = Posted(ref, "notice", message, private_to=user_id)
        self._print(message, "  (only you) ")

    async def open_form(self, trigger: Any, form: Form) -> None:
        self.forms.append(form)
        current = form.fields[0].value if form.fields else ""
        hint = "edit <new prompt>" if form.action.value == "edit" else "reject <reason>"
        self.console.print(
            f"  [dim]{escape(form.title)}: type `{hint}`. Current: {escape(current[:200])}[/dim]"
        )

    # ------------------------------------------------------------------ progress bar

    def _show_progress(self, ref: str, message: Message) -> None:
        if self._progress is None or self._progress_ref != ref:
            self._end_progress()
            self._progress = Progress(
                TextColumn("  {task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                console=self.console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(message.text.split(" ")[0] + " rendering", total=100)
            self._progress_ref = ref
        assert self._task is not None
        self._progress.update(self._task, completed=message.progress or 0)

    def _end_progress(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None
            self._progress_ref = None

    def clips(self) -> list[Posted]:
        return [p for p in self.posts.values() if p.kind == "clip"]
