"""Slack in HTTP mode: while a request to the events path is in flight, work that can wait holds back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.runtime.answers import AnswersFirst
from adapters.web.slack_events import AnsweringSlack

LONG = 30.0  # the hold; the test never waits it out


def scope(path: str) -> dict[str, Any]:
    return {"type": "http", "path": path, "method": "POST"}


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Any) -> None:
    return None


@pytest.mark.timeout(30)
async def test_held_work_starts_when_the_slack_request_in_flight_is_answered() -> None:
    answers = AnswersFirst(hold=LONG)
    release = asyncio.Event()

    async def app(scope: Any, _receive: Any, _send: Any) -> None:
        await release.wait()  # the request is being answered until this is set

    middleware = AnsweringSlack(app, answers=answers, path="/slack/events")
    request = asyncio.create_task(middleware(scope("/slack/events"), receive, send))
    await asyncio.sleep(0)
    assert answers.answering == 1
    held = asyncio.create_task(answers.wait())
    await asyncio.sleep(0.05)
    assert not held.done() and answers.waiting == 1
    release.set()
    await request
    await asyncio.wait_for(held, 5)
    assert answers.answering == 0


@pytest.mark.timeout(30)
async def test_other_paths_do_not_hold_work_back() -> None:
    answers = AnswersFirst(hold=LONG)
    seen: list[int] = []

    async def app(scope: Any, _receive: Any, _send: Any) -> None:
        seen.append(answers.answering)

    middleware = AnsweringSlack(app, answers=answers, path="/slack/events")
    await middleware(scope("/metrics"), receive, send)
    await middleware(scope("/slack/events"), receive, send)
    assert seen == [0, 1]
