"""What reaches the core and what doesn't: signatures, retries, mentions, DMs, thread replies."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain import RequestStatus
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import CHANNEL, REQUESTER, Bed, start_bed
from tests.support.providers import FileJobProvider

R = RequestStatus


async def test_bad_signature_is_refused_with_401_and_nothing_is_stored(bed: Bed) -> None:
    request = bed.fake.build_command("a 4s clip of a red kite", user=REQUESTER, channel=CHANNEL)
    request.headers["X-Slack-Signature"] = "v0=" + "0" * 64

    status, _ = await bed.deliver(request)
    await bed.settle()

    assert status == 401
    assert await bed.app.store.requests.open_requests("slack", bed.fake.team, REQUESTER) == []
    assert bed.fake.calls_to("chat.postMessage") == []


async def test_body_changed_after_signing_is_refused(bed: Bed) -> None:
    request = bed.fake.build_command("a 4s clip of a red kite", user=REQUESTER, channel=CHANNEL)
    request.body = request.body.replace("red+kite", "blue+kite")

    status, _ = await bed.deliver(request)

    assert status == 401


async def test_request_signed_more_than_five_minutes_ago_is_refused(bed: Bed) -> None:
    stale = int(time.time()) - 301
    request = bed.fake.build_command(
        "a 4s clip of a red kite", user=REQUESTER, channel=CHANNEL, timestamp=stale
    )

    status, _ = await bed.deliver(request)
    await bed.settle()

    assert status == 401
    assert await bed.app.store.requests.open_requests("slack", bed.fake.team, REQUESTER) == []


async def test_events_url_verification_is_answered_with_the_challenge(bed: Bed) -> None:
    status, answer = await bed.deliver(bed.fake.build_url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY"))

    assert status == 200 and answer == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY"}


async def test_retried_app_mention_creates_one_request(any_bed: Bed) -> None:
    bed = any_bed
    mention = bed.fake.build_mention(
        "make a 4s clip of a lighthouse at dusk", user=REQUESTER, channel=CHANNEL
    )
    first = bed.fake.build_event(mention, event_id="Ev0RETRIED")
    retry = bed.fake.build_event(mention, event_id="Ev0RETRIED", retry_num=1)

    assert (await bed.deliver(first))[0] == 200
    await bed.settle()
    assert (await bed.deliver(retry))[0] == 200
    await bed.settle()

    parent = bed.parent()
    assert parent.headline == f"🎬 video request from <@{REQUESTER}>: make a 4s clip of a lighthouse at dusk"
    assert len(await bed.app.store.requests.open_requests("slack", bed.fake.team, REQUESTER)) == 1


async def test_a_mention_and_its_message_event_make_one_request(bed: Bed) -> None:
    mention = bed.fake.build_mention("make a 4s clip of a lighthouse", user=REQUESTER, channel=CHANNEL)
    same_message = {**mention, "type": "message", "channel_type": "channel"}

    await bed.deliver(bed.fake.build_event(mention))
    await bed.deliver(bed.fake.build_event(same_message))
    await bed.settle()

    assert len(bed.fake.parents(CHANNEL)) == 1


async def test_direct_message_to_the_bot_works_like_video(bed: Bed) -> None:
    dm = bed.fake.build_message(
        "a 4s clip of waves on a pebble beach", user=REQUESTER, channel="D0DIRECT", channel_type="im"
    )

    await bed.deliver(bed.fake.build_event(dm))
    await bed.settle()

    parent = bed.parent("D0DIRECT")
    assert "waves on a pebble beach" in parent.headline
    assert bed.replies(parent)[0].headline == "📝 Brief v1"


async def test_bots_own_messages_and_edits_are_ignored(bed: Bed) -> None:
    own = bed.fake.build_message("a 4s clip", user="U0CLIPDESK", channel="D0DIRECT", channel_type="im")
    edited = {
        **bed.fake.build_message("a 4s clip", user=REQUESTER, channel="D0DIRECT", channel_type="im"),
        "subtype": "message_changed",
    }

    await bed.deliver(bed.fake.build_event(own))
    await bed.deliver(bed.fake.build_event(edited))
    await bed.settle()

    assert bed.fake.calls_to("chat.postMessage") == []


async def test_help_is_answered_privately_without_the_on_it_ack(bed: Bed) -> None:
    status, ack = await bed.video("help")

    assert status == 200 and not ack
    (answer,) = bed.fake.ephemeral_to(REQUESTER)
    assert "How to use clipdesk" in answer and "/video status" in answer
    assert bed.fake.calls_to("chat.postMessage") == []


async def test_video_in_a_channel_without_the_bot_is_answered_through_the_response_url(bed: Bed) -> None:
    bed.fake.not_member.add("C0ELSEWHERE")

    status, _ = await bed.video("a 4s clip of a red kite", channel="C0ELSEWHERE")

    assert status == 200
    (answer,) = bed.fake.responses
    assert answer["response_type"] == "ephemeral" and "/invite @clipdesk" in answer["text"]


@pytest.fixture
async def paid_bed(tmp_path: Path, sqlite_url: str, fake: FakeSlack) -> AsyncIterator[Bed]:
    provider = FileJobProvider(tmp_path / "jobs", price=0.1)
    b = await start_bed(tmp_path, sqlite_url, fake, provider=provider, auto_render_max_cost=0.0)
    yield b
    await b.close()


async def test_reply_in_the_thread_while_the_brief_waits_changes_the_brief(paid_bed: Bed) -> None:
    bed = paid_bed
    await bed.video("a 4s clip of a lighthouse at dusk")
    parent = bed.parent()

    reply = bed.fake.build_message("make it stormy", user=REQUESTER, channel=CHANNEL, thread_ts=parent.ts)
    await bed.deliver(bed.fake.build_event(reply))
    await bed.deliver(bed.fake.build_event(reply, retry_num=1))
    await bed.settle()

    briefs = [m for m in bed.replies(parent) if m.headline.startswith("📝 Brief")]
    assert [m.headline for m in briefs] == ["📝 Brief v1", "📝 Brief v2"]
    assert "stormy" in briefs[-1].all_text()
    assert briefs[0].buttons() == []  # the old brief can no longer be rendered


async def test_replies_in_other_threads_are_left_alone(bed: Bed) -> None:
    chatter = bed.fake.build_message("nice!", user=REQUESTER, channel=CHANNEL, thread_ts="1600000000.000100")

    await bed.deliver(bed.fake.build_event(chatter))
    await bed.settle()

    assert bed.fake.calls_to("chat.postMessage") == [] and bed.fake.ephemeral == []
