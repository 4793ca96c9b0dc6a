"""Slack's HTTP endpoint against an unauthenticated caller: capped, verified before parsed, logged once.

Each test runs the real web app (FastAPI on uvicorn) with Bolt behind it, as
``clipdesk serve`` does, and sends what an attacker would.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt.request.internals import parse_body

from adapters.web.slack_events import SlackRefusal, check_slack_body
from tests.fakes.slack import SIGNING_SECRET
from tests.slack.conftest import CHANNEL, REQUESTER, Bed
from tests.support.web import RESET, post_streaming

MARKER = b"payload=SECRETBODYTEXT"
EIGHT_MB = 8 * 1024 * 1024


def signed_headers(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    """Headers that Slack would send with ``body``, signed over the raw bytes."""
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status


def log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    # uvicorn's access log is off in clipdesk (no handler, not propagated); pytest's capture attaches
    # to non-propagating loggers anyway, so its lines are left out here.
    return [record.getMessage() for record in caplog.records if record.name != "uvicorn.access"]


async def test_ten_unsigned_8_mb_posts_are_refused_with_a_few_short_lines_and_no_body(
    bed: Bed, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert bed.events_url is not None
    statuses = [
        await post_streaming(
            bed.events_url,
            EIGHT_MB,
            filler=MARKER,
            chunked=i % 2 == 1,  # with and without a declared length
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        for i in range(10)
    ]
    assert set(statuses) <= {413, RESET} and 413 in statuses
    lines = log_lines(caplog)
    assert "SECRETBODYTEXT" not in caplog.text
    refusals = [line for line in lines if line.startswith("refused POST /slack/events")]
    assert len(refusals) == 10 and len(lines) <= 12, lines
    assert all(": 413 " in line for line in refusals), refusals
    assert all(len(line) < 300 for line in lines), lines
    assert await bed.app.store.requests.open_requests("slack", bed.fake.team, REQUESTER) == []


async def test_a_malformed_unsigned_body_is_answered_400_not_500(
    bed: Bed, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert bed.events_url is not None
    status = await post(
        bed.events_url,
        b"payload=%7Bnot-json SECRETBODYTEXT",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 400
    assert "SECRETBODYTEXT" not in caplog.text and "Traceback" not in caplog.text
    assert log_lines(caplog) == ["refused POST /slack/events from 127.0.0.1: 400 no Slack signature headers"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        (b"\xff\xfe not utf-8 at all", "application/x-www-form-urlencoded"),
        (b'{"type": "event_callback", "event": ', "application/json"),
        (b"[1, 2, 3]", "application/json"),
    ],
    ids=["payload-not-json", "not-utf8", "truncated-json", "json-not-an-object"],
)
async def test_a_malformed_signed_body_is_answered_400_and_reaches_nothing(
    bed: Bed, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str
) -> None:
    caplog.set_level(logging.INFO)
    assert bed.events_url is not None
    status = await post(bed.events_url, body, signed_headers(body, content_type))
    assert status == 400
    assert "Traceback" not in caplog.text
    assert bed.fake.calls_to("chat.postMessage") == []


async def test_a_bad_signature_is_one_line_without_the_body_and_bolt_logs_nothing(
    bed: Bed, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert bed.events_url is not None
    body = b"command=%2Fvideo&text=SECRETBODYTEXT"
    headers = signed_headers(body)
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    assert await post(bed.events_url, body, headers) == 401
    assert "SECRETBODYTEXT" not in caplog.text
    lines = [line for line in log_lines(caplog) if "signature" in line.lower()]
    assert lines == ["refused POST /slack/events from 127.0.0.1: 401 Slack signature does not match"]


def test_bolts_own_bad_signature_line_is_silenced(caplog: pytest.LogCaptureFixture) -> None:
    from adapters.web.slack_events import silence_bolt_signature_log

    silence_bolt_signature_log()
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="slack_bolt.RequestVerification")  # Bolt copies root's level
    bolt_log = logging.getLogger("slack_bolt.RequestVerification")
    bolt_log.info("Invalid request signature detected (signature: x, timestamp: 1, body: SECRETBODYTEXT)")
    bolt_log.info("an unrelated Bolt line")
    assert "SECRETBODYTEXT" not in caplog.text and "an unrelated Bolt line" in caplog.text


async def test_a_valid_signed_command_still_works_after_all_that(bed: Bed) -> None:
    assert bed.events_url is not None
    assert await post_streaming(bed.events_url, EIGHT_MB, filler=MARKER) == 413
    assert await post(bed.events_url, b"payload=%7B", signed_headers(b"payload=%7B")) == 400
    status, _ = await bed.video("a 4s clip of a red kite", user=REQUESTER, channel=CHANNEL)
    assert status == 200
    [request] = await bed.app.store.requests.open_requests("slack", bed.fake.team, REQUESTER)
    assert "red kite" in request.raw_text


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*"ab=&%+;{}[]\"'é0xFf ", "%FF", "%zz", "\u2003", "payload"])).map("".join))
def test_form_text_passed_without_parsing_is_text_bolt_parses(body: str) -> None:
    # check_slack_body lets plain form data through without parsing it; Bolt must read any such body.
    try:
        check_slack_body(body.encode(), "application/x-www-form-urlencoded")
    except SlackRefusal:
        return
    assert isinstance(parse_body(body, "application/x-www-form-urlencoded"), dict)
