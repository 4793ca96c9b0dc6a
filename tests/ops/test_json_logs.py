"""`CLIPDESK_LOG_FORMAT=json`: every line is JSON, a request's lines carry its ids, no token is written."""

from __future__ import annotations

import json
import logging
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from adapters.runtime.logs import configure_logging
from bot import log_context
from bot.domain import RequestStatus
from storage.database import make_engine
from storage.repository import SqlStore
from tests.e2e.test_intake_durability import CHANNEL, Serve, all_in_review, serve_env
from tests.fakes.loopback import unused_port
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack
from tests.support.waiting import wait_for


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


@pytest.mark.slow
async def test_the_json_lines_of_one_request_carry_its_ids_and_no_token(
    tmp_path: Path, slack: FakeSlack
) -> None:
    port = unused_port()
    env = serve_env(
        tmp_path,
        port,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        CLIPDESK_SLACK_API_URL=slack.api_url,
        CLIPDESK_SLACK_APPROVERS="ULEAD",
        CLIPDESK_LOG_FORMAT="json",
        CLIPDESK_LOG_LEVEL="INFO",
    )
    serve = Serve(tmp_path, env, port)
    store = SqlStore(make_engine(f"sqlite:///{tmp_path / 'data' / 'clipdesk.db'}"))
    try:
        await serve.start()
        request = slack.build_command("a 4s clip of a red kite", user="U0001", channel=CHANNEL)
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"http://127.0.0.1:{port}/slack/events", data=request.body.encode(), headers=request.headers
            ) as response,
        ):
            assert response.status == 200
        await wait_for(lambda: all_in_review(store, 1), seconds=180)
        [done] = await store.requests.requests_in_status(RequestStatus.IN_REVIEW)
        assert await serve.stop(signal.SIGTERM) == 0
    finally:
        await serve.close()
        await store.close()
    lines = [line for line in serve.stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"event", "level", "logger", "timestamp"} <= set(r) for r in records)
    mine = [r for r in records if r.get("request_id") == done.id]
    # The intake, the worker driving its render, and the thread deliveries all name the request.
    assert {"adapters", "bot"} & {r["logger"].split(".")[0] for r in mine}
    driving = [r for r in mine if r["event"].startswith("driving render")]
    assert driving and driving[0]["render_id"].startswith("rnd_")
    finished = [r for r in mine if r["event"].startswith("render ") and r["event"].endswith(" is ready")]
    assert finished and finished[0]["render_id"] == driving[0]["render_id"]
    assert finished[0]["platform"] == "slack" and finished[0]["workspace"] == TEAM
    assert any(r.get("sink") == "thread" for r in mine) or any("processing ask" in r["event"] for r in mine)
    assert BOT_TOKEN not in serve.stderr and SIGNING_SECRET not in serve.stderr
    # APScheduler's per-tick INFO lines stay out unless DEBUG.
    assert not any(r["logger"].startswith("apscheduler") and r["level"] == "info" for r in records)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_tokens_and_secret_fields_are_redacted(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    log_context.bind(request_id="req_1")
    logging.getLogger("adapters.slack.chat").warning(
        "posting with %s failed: Authorization: Bearer abc.def-123", "xoxb-1111-2222-abcdefgh"
    )
    [line] = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["request_id"] == "req_1"
    assert "xoxb-" not in line and "abc.def-123" not in line
    assert record["event"].count("[redacted]") == 2
