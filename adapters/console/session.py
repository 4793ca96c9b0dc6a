"""The console thread: `clipdesk demo` runs one request end to end, `clipdesk chat` is interactive.

The console calls the same use cases as every other entry point (through the
chat mapper), so its rules are the chat's rules. What is its own: which request
a word like ``approve`` means. It is always the one named (``approve req_3f9a``,
``approve #2``, ``approve v2``) or the current one — the request the user last
opened or was last shown — never an older leftover, and every reply says which
request and version it acted on.
"""

from __future__ import annotations

import asyncio
import getpass
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from adapters.console.chat import PLATFORM, ConsoleChat
from adapters.console.targeting import Pick, parse_pick
from adapters.runtime.container import App
from bot import texts
from bot.domain import ReplyTarget, RequestOptions, RequestStatus, VideoRequest, new_id
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
    RequestStatus.EXPIRED,
}
WORKSPACE = "local"


@dataclass
class ConsoleSession:
    app: App
    chat: ConsoleChat
    actor: Actor
    channel: str = "console"
    current: str | None = None  # the request this conversation is about
    opened: list[str] = field(default_factory=list)  # this session's requests, in order (#1, #2, …)

    @property
    def target(self) -> ReplyTarget:
        return ReplyTarget(PLATFORM, WORKSPACE, self.channel)

    async def ask(self, text: str, options: RequestOptions | None = None) -> VideoRequest | None:
        """A new request; it becomes the current one."""
        command = VideoCommand(self.target, self.actor, text, event_id=new_id("evt"), options=options)
        receipt = await self.app.conversation.receive(command)
        if receipt.request is None:
            await self.app.deliverer.drain()
            return None
        self.current = receipt.request.id
        self.opened.append(receipt.request.id)
        await self.app.conversation.follow_up(receipt)
        return await self.app.store.requests.get_request(receipt.request.id)

    async def settle(self, request_id: str, *, limit_seconds: float = 600.0) -> VideoRequest:
        """Drive the worker and the outbox until the request waits for a person."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_seconds
        while True:
            await self.app.worker.claim_once()
            await self.app.deliverer.drain()
            request = await self.app.store.requests.get_request(request_id)
            assert request is not None
            # Settled: waiting for a person, nothing rendering, and everything said in the thread
            # (a background deliverer may be the one still saying it).
            if (
                request.status in SETTLED
                and not self.app.worker.busy
                and not await self.app.store.outbox.pending()
            ):
                return request
            if loop.time() > deadline:
                raise TimeoutError(f"request {request_id} did not settle in {limit_seconds:.0f}s")
            await asyncio.sleep(0.1)

    async def press(self, action: Action, request: VideoRequest, render_id: str | None = None) -> None:
        await self._handle(ButtonPressed(request.target, self.actor, action, request.id, render_id))

    async def submit(
        self, action: Action, request: VideoRequest, values: dict[str, str], render_id: str | None = None
    ) -> None:
        await self._handle(FormSubmitted(request.target, self.actor, action, request.id, values, render_id))

    async def reply(self, request: VideoRequest, text: str) -> None:
        await self._handle(ThreadReply(request.target, self.actor, text, event_id=new_id("evt")))

    async def _handle(self, event: ButtonPressed | FormSubmitted | ThreadReply) -> None:
        await self.app.conversation.handle(event)
        await self.app.deliverer.drain()

    async def latest_clip(self, request_id: str) -> Path | None:
        ready = [
            r
            for r in await self.app.store.renders.renders_for(request_id)
            if r.clip_path and r.status == "ready" and r.shot is None  # a cut's shots are not clips
        ]
        return Path(ready[-1].clip_path) if ready and ready[-1].clip_path else None

    async def resolve(self, pick: Pick) -> tuple[VideoRequest | None, str]:
        """The request a command means, or ``None`` and why not."""
        request_id = pick.request_id
        if pick.number is not None:
            if not 1 <= pick.number <= len(self.opened):
                return (
                    None,
                    f"There is no request #{pick.number} in this session (you opened {len(self.opened)}).",
                )
            request_id = self.opened[pick.number - 1]
        request_id = request_id or self.current
        if request_id is None:
            return None, "No request yet. Start one with `/video …`."
        request = await self._find(request_id)
        if request is None:
            return None, f"I can't find {request_id} here; `/video status` lists your open requests."
        self.current = request.id
        return request, ""

    async def _find(self, request_id: str) -> VideoRequest | None:
        """A full id, or an unambiguous prefix of one of this user's open requests."""
        request = await self.app.store.requests.get_request(request_id)
        if request is None:
            mine = await self.app.store.requests.open_requests(PLATFORM, WORKSPACE, self.actor.user_id)
            matches = [r for r in mine if r.id.startswith(request_id)]
            request = matches[0] if len(matches) == 1 else None
        return request if request is not None and request.target.workspace == WORKSPACE else None

    async def render_for(self, request: VideoRequest, version: int | None) -> tuple[str | None, int | None]:
        """The clip of ``version`` (default: the newest finished one) and its version number."""
        ready = [
            r
            for r in await self.app.store.renders.renders_for(request.id)
            if r.status == "ready" and r.shot is None  # a cut's shots are stitched, not reviewed
        ]
        if version is not None:
            ready = [r for r in ready if r.brief_version == version]
        if not ready:
            return None, version
        newest = max(ready, key=lambda r: (r.brief_version, r.created_at))
        return newest.id, newest.brief_version


def label(request: VideoRequest, version: int | None = None) -> str:
    """How a reply names the request it acted on: short id, the ask, and the version."""
    ask = request.raw_text if len(request.raw_text) <= 48 else request.raw_text[:47] + "…"
    return f"{request.id[:12]} “{ask}”" + (f" v{version}" if version else "")


def local_actor() -> Actor:
    try:
        user = getpass.getuser()
    except Exception:
        user = "you"
    return Actor(user_id=user, name=f"@{user}")


async def run_demo(
    app: App, chat: ConsoleChat, text: str, options: RequestOptions | None = None
) -> Path | None:
    """One request from ask to clip; returns the MP4's path (``None`` if it could not be made)."""
    session = ConsoleSession(app, chat, local_actor(), channel="demo")
    request = await session.ask(text, options)
    if request is None:
        return None
    request = await session.settle(request.id)
    if request.status == RequestStatus.AWAITING_CONFIRMATION:
        chat.console.print("[dim](demo) pressing Render[/dim]")
        await session.press(Action.RENDER, request)
        request = await session.settle(request.id)
    if request.status not in (RequestStatus.IN_REVIEW,):
        return None
    clip = await session.latest_clip(request.id)
    chat.console.print(
        "\n[bold]Review:[/bold] an approver would now press Approve, Regenerate, Edit prompt or Reject. "
        "Try it with `clipdesk chat`."
    )
    return clip


HELP = """Type `/video <what you want>` to start a request; it becomes the current one.
  render · approve · reject <reason> · regenerate · edit <new prompt> · cancel · retry
  in a multi-shot cut: regenerate shot 3 · edit shot 3 <what it shows>
  an explainer whose voice failed: renarrate (the same clip, narrated again)
  name another request with its id or number: `approve req_3f9a…`, `approve #2`, `approve v2`
  /video status · /video usage · /video help · quit"""

ACTIONS = {
    "render": Action.RENDER,
    "approve": Action.APPROVE,
    "regenerate": Action.REGENERATE,
    "cancel": Action.CANCEL,
    "retry": Action.RETRY,
    "renarrate": Action.RETRY_NARRATION,
}


async def run_chat(app: App, chat: ConsoleChat, console: Console) -> None:
    session = ConsoleSession(app, chat, local_actor())
    console.print(HELP)
    async for line in _lines(console):
        if line in ("quit", "exit"):
            break
        await _one_line(session, console, line)
    await _finish_saying(app)


async def _finish_saying(app: App, seconds: float = 30.0) -> None:
    """Let the thread say what is still on its way before the chat closes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while await app.store.outbox.pending() and loop.time() < deadline:
        await app.deliverer.drain()
        await asyncio.sleep(0.05)


async def _one_line(session: ConsoleSession, console: Console, line: str) -> None:
    if line.startswith("/video"):
        request = await session.ask(line.removeprefix("/video").strip())
        if request is not None:
            await session.settle(request.id)
        return
    shot = _SHOT_COMMAND.match(line)
    if shot is not None:
        await _shot_command(session, console, int(shot["number"]), shot["verb"].lower(), shot["words"])
        return
    word, _, rest = line.partition(" ")
    word = word.lower()
    if word not in (*ACTIONS, "edit", "reject"):
        request, _why = await session.resolve(Pick())
        if request is not None and request.status in (
            RequestStatus.CLARIFYING,
            RequestStatus.AWAITING_CONFIRMATION,
        ):
            await session.reply(request, line)
            await session.settle(request.id)
            return
        console.print("[dim]Not a command. Type `/video <what you want>`, or `help` for the commands.[/dim]")
        if word == "help":
            console.print(HELP)
        return
    pick, rest = parse_pick(rest)
    request, why = await session.resolve(pick)
    if request is None:
        console.print(why)
        return
    render_id, version = await session.render_for(request, pick.version)
    if pick.version is not None and render_id is None and word in ("approve", "reject"):
        console.print(f"{label(request)} has no finished clip v{pick.version}.")
        return
    console.print(f"[dim]→ {word} {label(request, version)}[/dim]")
    if word in ACTIONS:
        await session.press(ACTIONS[word], request, render_id if word in ("approve", "renarrate") else None)
    elif word == "edit":
        await session.submit(Action.EDIT, request, {"prompt": rest})
    else:
        await session.submit(Action.REJECT, request, {"reason": rest}, render_id)
    await session.settle(request.id)


_SHOT_COMMAND = re.compile(
    r"^(?P<verb>regenerate|edit)\s+shot\s+(?P<number>\d{1,3})(?:\s+(?P<words>.+))?$", re.I
)


async def _shot_command(
    session: ConsoleSession, console: Console, number: int, verb: str, words: str | None
) -> None:
    """`regenerate shot 3` / `edit shot 3 <words>`: the current request's latest cut, that shot."""
    request, why = await session.resolve(Pick())
    if request is None:
        console.print(why)
        return
    cut = await session.app.store.cuts.latest_cut(request.id)
    if cut is None:
        console.print(texts.NOT_A_CUT)
        return
    shot = next((s for s in cut.shots if s.index == number), None)
    if shot is None:
        console.print(texts.no_such_shot(number, len(cut.shots)))
        return
    if verb == "edit" and not words:
        console.print("Say what the shot should show: `edit shot 3 a close-up of the cap`.")
        return
    console.print(f"[dim]→ {verb} shot {number} of {label(request)} cut v{cut.version}[/dim]")
    if verb == "edit":
        await session.submit(Action.EDIT_SHOT, request, {"shot": words or ""}, shot.render_id)
    else:
        await session.press(Action.REGENERATE_SHOT, request, shot.render_id)
    await session.settle(request.id)


async def _lines(console: Console) -> AsyncIterator[str]:
    """Lines typed at the prompt, read without a thread, so Ctrl-C and Ctrl-D end the chat at once."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        console.print("› ", end="")
        raw = await reader.readline()
        if not raw:
            return
        line = raw.decode(errors="replace").strip()
        if line:
            yield line
