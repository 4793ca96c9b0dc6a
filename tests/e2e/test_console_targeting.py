"""The console acts on the request the user means, says which, and applies everything an edit says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from adapters.console.chat import ConsoleChat
from adapters.console.session import ConsoleSession, _one_line, local_actor
from adapters.runtime.container import App, build_app
from bot.domain import RequestStatus, VideoRequest
from storage.media import LocalMediaStore
from tests.support.harness import test_settings
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider

R = RequestStatus


@dataclass
class Terminal:
    app: App
    console: Console
    session: ConsoleSession

    async def type(self, line: str) -> str:
        """Type one line; return what the console printed for it."""
        start = len(self.console.export_text(clear=False))
        await _one_line(self.session, self.console, line)
        return self.console.export_text(clear=False)[start:]

    def fresh_session(self) -> None:
        """As when `clipdesk chat` is started again: same data, no current request."""
        self.session = ConsoleSession(self.app, self.session.chat, local_actor())

    async def request(self, request_id: str) -> VideoRequest:
        found = await self.app.store.requests.get_request(request_id)
        assert found is not None
        return found


@pytest.fixture
async def term(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Terminal]:
    settings = test_settings(tmp_path, sqlite_url)
    console = Console(record=True, width=240)
    chat = ConsoleChat(console)
    app = await build_app(
        settings,
        chat_ports=[chat],
        providers={"filejob": FileJobProvider(tmp_path / "jobs")},
        postprocessor=FilingPostProcessor(LocalMediaStore(settings.media_dir)),
        migrate=False,
    )
    yield Terminal(app, console, ConsoleSession(app, chat, local_actor()))
    await app.close()


async def test_approve_acts_on_the_current_request_and_names_it(term: Terminal) -> None:
    await term.type("/video a 4s clip of a kite over a hill")
    await term.type("/video a 4s clip of a steel water bottle")
    first, second = term.session.opened
    said = await term.type("approve")
    assert f"approve {second[:12]} “a 4s clip of a steel water bottle” v1" in said
    assert (await term.request(second)).status == R.APPROVED
    assert (await term.request(first)).status == R.IN_REVIEW  # never an older one silently

    said = await term.type("approve #1")
    assert f"approve {first[:12]} “a 4s clip of a kite over a hill” v1" in said
    assert (await term.request(first)).status == R.APPROVED


async def test_a_new_session_never_acts_on_a_leftover_request_it_was_not_shown(term: Terminal) -> None:
    await term.type("/video a 4s clip of a kite over a hill")
    [leftover] = term.session.opened
    term.fresh_session()
    said = await term.type("regenerate")
    assert "No request yet" in said
    assert (await term.request(leftover)).status == R.IN_REVIEW
    said = await term.type(f"regenerate {leftover[:10]}")  # named by an id prefix: then it acts
    assert f"regenerate {leftover[:12]}" in said
    assert len(await term.app.store.requests.briefs_for(leftover)) == 2


async def test_an_older_version_is_named_and_refused(term: Terminal) -> None:
    await term.type("/video a 4s clip of a kite over a hill")
    await term.type("regenerate")
    said = await term.type("approve v1")
    assert "older version (v1)" in said and "v2" in said
    assert (await term.request(term.session.opened[0])).status == R.IN_REVIEW


async def test_edit_applies_the_flags_and_phrases_it_contains_and_shows_the_new_ask(term: Terminal) -> None:
    await term.type("/video a 4s clip of our bottle, vertical")
    [request_id] = term.session.opened
    said = await term.type("edit our bottle on a wooden desk --seconds 8, square")
    briefs = await term.app.store.requests.briefs_for(request_id)
    assert (briefs[-1].version, briefs[-1].seconds, briefs[-1].aspect) == (2, 8, "1:1")
    assert "Your ask: our bottle on a wooden desk" in said
    request = await term.request(request_id)
    assert request.raw_text.startswith("our bottle on a wooden desk")
    assert (request.options.seconds, request.options.aspect) == (8, "1:1")


async def test_words_that_are_not_commands_get_a_hint_and_markup_is_rendered(term: Terminal) -> None:
    said = await term.type("hello there")
    assert "Not a command" in said
    await term.type("/video a 4s clip of a kite over a hill")
    shown = term.console.export_text(clear=False)
    assert "*Your ask:*" not in shown and "Your ask: a 4s clip of a kite over a hill" in shown
