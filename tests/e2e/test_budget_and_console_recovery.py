"""A refused budget ends an auto-render at once; a restarted console resumes what it left unfinished."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

from rich.console import Console

from adapters.console.chat import ConsoleChat
from adapters.console.session import run_demo
from adapters.runtime.container import build_app
from bot.domain import Render, RenderStatus, RequestStatus
from storage.media import LocalMediaStore
from tests.support.cli_run import ROOT, clean_environment
from tests.support.harness import make_harness, test_settings
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider
from tests.support.seed import claim, seed_queued
from tests.support.waiting import wait_for

R = RequestStatus


async def test_an_auto_render_over_budget_ends_the_request_with_the_refusal_in_the_thread(
    tmp_path: Path, db_url: str
) -> None:
    paid = FileJobProvider(tmp_path / "jobs", price=0.1)
    h = await make_harness(
        tmp_path, db_url, providers={"filejob": paid}, auto_render_max_cost=5.0, budget_user_monthly=0.2
    )
    try:
        request = await h.ask("a 4s clip of a lighthouse at dusk")  # $0.40 against $0.20 left
        assert request is not None and request.status == R.FAILED
        assert request.failure_reason and "$0.20 left this month" in request.failure_reason
        shown = h.chat.of_kind("post")[-1].message
        assert "failed — retry?" in shown.text and "Nothing was queued" in shown.body
        assert await h.app.store.renders.renders_for(request.id) == [] and paid.submits() == []
        assert "budget.refused" in [e.kind for e in await h.app.store.audit.audit_events()]
    finally:
        await h.close()


def test_a_budget_below_zero_is_a_configuration_error(tmp_path: Path) -> None:
    import subprocess

    env = clean_environment(tmp_path)
    env["CLIPDESK_BUDGET_USER_MONTHLY"] = "-1"
    run = subprocess.run(
        [sys.executable, "-m", "adapters.runtime.cli", "demo", "a kite"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "CLIPDESK_BUDGET_USER_MONTHLY" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


async def test_demo_over_budget_ends_at_once_with_the_reason(tmp_path: Path, sqlite_url: str) -> None:
    settings = test_settings(tmp_path, sqlite_url, auto_render_max_cost=5.0, budget_user_monthly=0.2)
    console = Console(record=True, width=200)
    chat = ConsoleChat(console)
    media = LocalMediaStore(settings.media_dir)
    app = await build_app(
        settings,
        chat_ports=[chat],
        providers={"filejob": FileJobProvider(tmp_path / "jobs", price=0.1)},
        postprocessor=FilingPostProcessor(media),
        migrate=False,
    )
    try:
        clip = await asyncio.wait_for(run_demo(app, chat, "a 4s clip of a lighthouse at dusk"), 60)
    finally:
        await app.close()
    assert clip is None
    assert "$0.20 left this month" in console.export_text()


async def test_a_restarted_chat_resumes_a_render_its_crashed_run_left_leased(tmp_path: Path) -> None:
    from storage.database import make_engine, upgrade
    from storage.repository import SqlStore

    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'clipdesk.db'}"
    upgrade(url)
    store = SqlStore(make_engine(url))
    # A render an earlier `clipdesk chat` on this machine was driving when it was killed.
    dead = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await dead.wait()
    [render_id] = await seed_queued(store, 1, provider="animatic")
    render = await store.renders.get_render(render_id)
    assert isinstance(render, Render)
    render.model = "animatic-v1"
    async with store.transaction() as tx:
        await tx.save_render(render, None)
    # Leased for an hour to a process of this machine that no longer exists.
    await claim(store, f"{socket.gethostname()}:{dead.pid}", render.created_at, 3600, 1)

    env = clean_environment(tmp_path)
    chat = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.runtime.cli",
        "chat",
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:

        async def finished() -> bool:
            done = await store.renders.get_render(render_id)
            return done is not None and done.status == RenderStatus.READY

        await wait_for(finished, seconds=120)  # nobody ran `clipdesk worker`: the chat did it
    finally:
        assert chat.stdin is not None
        chat.stdin.write(b"quit\n")
        await chat.stdin.drain()
        await asyncio.wait_for(chat.wait(), 60)
        await store.close()
