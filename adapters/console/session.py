"""The console thread: `clipdesk demo` runs one request end to end, `clipdesk chat` is interactive."""

from __future__ import annotations

import asyncio
import getpass
import shlex
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from adapters.console.chat import PLATFORM, ConsoleChat
from adapters.runtime.container import App
from bot.domain import ReplyTarget, RequestStatus, VideoRequest, new_id
from bot.events import Actor, ButtonPressed, FormSubmitted, ThreadReply, VideoCommand
from bot.messages import Action

SETTLED = {
    RequestStatus.IN_REVIEW,
    RequestStatus.FAILED,
    RequestStatus.CANCELLED,
    RequestStatus.BLOCKED,
    RequestStatus.APPROVED,
    RequestStatus.REJECTED,
    RequestStatus.AWAITING_CONFIRMATION,
    RequestStatus.CLARIFYING,
}


@dataclass
class ConsoleSession:
    app: App
    chat: ConsoleChat
    actor: Actor
    channel: str = "console"

    @property
    def target(self) -> ReplyTarget:
        return ReplyTarget(PLATFORM, "local", self.channel)

    async def latest_request(self) -> VideoRequest | None:
        requests = await self.app.store.open_requests(PLATFORM, "local", self.actor.user_id)
        if requests:
            return requests[-1]
        return None

    async def ask(self, text: str) -> VideoRequest | None:
        before = {r.id for r in await self.app.store.open_requests(PLATFORM, "local", self.actor.user_id)}
        await self.app.conversation.handle(
            VideoCommand(self.target, self.actor, text, event_id=new_id("evt"))
        )
        for request in await self.app.store.open_requests(PLATFORM, "local", self.actor.user_id):
            if request.id not in before:
                return request
        return None

    async def settle(self, request_id: str, *, limit_seconds: float = 600.0) -> VideoRequest:
        """Drive the worker and the outbox until the request waits for a person."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_seconds
        while True:
            await self.app.worker.claim_once()
            await self.app.deliverer.deliver_once()
            request = await self.app.service.load(request_id)
            if request.status in SETTLED and not self.app.worker.busy:
                await self.app.deliverer.deliver_once()
                return request
            if loop.time() > deadline:
                raise TimeoutError(f"request {request_id} did not settle in {limit_seconds:.0f}s")
            await asyncio.sleep(0.1)

    async def press(self, action: Action, request: VideoRequest, render_id: str | None = None) -> None:
        await self.app.conversation.handle(
            ButtonPressed(request.target, self.actor, action, request.id, render_id)
        )

    async def submit(self, action: Action, request: VideoRequest, values: dict[str, str]) -> None:
        await self.app.conversation.handle(
            FormSubmitted(request.target, self.actor, action, request.id, values)
        )

    async def reply(self, request: VideoRequest, text: str) -> None:
        await self.app.conversation.handle(
            ThreadReply(request.target, self.actor, text, event_id=new_id("evt"))
        )

    async def latest_clip(self, request_id: str) -> Path | None:
        ready = [
            r
            for r in await self.app.store.renders_for(request_id)
            if r.clip_path and r.status.value == "ready"
        ]
        return Path(ready[-1].clip_path) if ready and ready[-1].clip_path else None


def local_actor() -> Actor:
    try:
        user = getpass.getuser()
    except Exception:
        user = "you"
    return Actor(user_id=user, name=f"@{user}")


async def run_demo(app: App, chat: ConsoleChat, text: str) -> Path | None:
    """One request from ask to clip; returns the MP4's path (``None`` if it could not be made)."""
    session = ConsoleSession(app, chat, local_actor(), channel="demo")
    request = await session.ask(text)
    if request is None:
        return None
    request = await session.settle(request.id)
    if request.status == RequestStatus.AWAITING_CONFIRMATION:
        chat.console.print("[dim](demo) pressing Render[/dim]")
        await session.press(Action.RENDER, request)
        request = await session.settle(request.id)
    if request.status == RequestStatus.CLARIFYING:
        return None
    clip = await session.latest_clip(request.id)
    if request.status == RequestStatus.IN_REVIEW:
        chat.console.print(
            "\n[bold]Review:[/bold] an approver would now press Approve, Regenerate, Edit prompt or Reject. "
            "Try it with `clipdesk chat`."
        )
    return clip


HELP = """Type `/video <what you want>` to start. In the thread of your latest request:
  render · approve · reject <reason> · regenerate · edit <new prompt> · cancel · retry
  /video status · /video usage · /video help · quit"""


async def run_chat(app: App, chat: ConsoleChat, console: Console) -> None:
    session = ConsoleSession(app, chat, local_actor())
    console.print(HELP)
    loop = asyncio.get_running_loop()
    while True:
        try:
            line = await loop.run_in_executor(None, input, "› ")
        except (EOFError, KeyboardInterrupt):
            return
        line = line.strip()
        if not line:
            continue
        if line in ("quit", "exit"):
            return
        if line.startswith("/video"):
            request = await session.ask(line.removeprefix("/video").strip())
            if request is not None:
                await session.settle(request.id)
            continue
        request = await session.latest_request()
        if request is None:
            console.print("No open request. Start one with `/video …`.")
            continue
        word, _, rest = line.partition(" ")
        actions = {
            "render": Action.RENDER,
            "approve": Action.APPROVE,
            "regenerate": Action.REGENERATE,
            "cancel": Action.CANCEL,
            "retry": Action.RETRY,
        }
        if word in actions:
            await session.press(actions[word], request)
        elif word == "edit":
            await session.submit(Action.EDIT, request, {"prompt": rest})
        elif word == "reject":
            await session.submit(Action.REJECT, request, {"reason": rest})
        else:
            await session.reply(request, " ".join(shlex.split(line)) if line.count('"') % 2 == 0 else line)
        await session.settle(request.id)
