"""A request's thread is opened once, and its clip posted once, even when Slack's answer is lost."""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime, timedelta

from sqlalchemy import update

from adapters.slack.chat import SlackChat
from adapters.slack.client import web_client
from bot.chat import ChatRouter
from bot.domain import RequestStatus, utcnow
from bot.outbox import Deliverer, DeliveryConfig
from bot.presenter import ThreadPresenter
from bot.thread_posts import ThreadPosts
from storage.outbox import SqlOutbox
from storage.tx import outbox_t
from tests.fakes.slack import BOT_TOKEN
from tests.slack.conftest import CHANNEL, REQUESTER, Bed
from tests.support.driving import run_until

R = RequestStatus


async def test_a_parent_posted_whose_answer_was_lost_is_found_by_its_metadata_not_posted_again(
    bed: Bed,
) -> None:
    # Slack posts the parent but the answer is lost (a crash or a cut connection before the
    # thread was recorded): the retried delivery must find that parent, not post a second one.
    bed.fake.lose_post_answers = 1
    await bed.video("a 4s clip of a red kite", user=REQUESTER)
    request = next(iter(await bed.app.store.requests.open_requests("slack", bed.fake.team, REQUESTER)))
    await bed.run_until(request.id, [R.IN_REVIEW])

    parents = bed.fake.parents(CHANNEL)
    assert len(parents) == 1, [p.text for p in parents]
    assert parents[0].metadata == {
        "event_type": "clipdesk_request",
        "event_payload": {"key": f"thread:{request.id}"},
    }
    done = await bed.app.store.requests.get_request(request.id)
    assert done is not None and done.target.thread == parents[0].ts
    assert len([m for m in bed.replies(parents[0]) if m.text.startswith("🎬 Your clip is ready")]) == 1


async def test_a_clip_posted_whose_answer_was_lost_is_found_in_the_thread_not_posted_again(
    bed: Bed,
) -> None:
    # The clip's details message is posted but the answer is lost (the process was killed before
    # the outbox recorded the delivery, as the soak does): the retried delivery, in this or any
    # other process, finds the clip in the thread by its metadata instead of posting it again.
    bed.fake.lose_post_answers_to = {"🎬 Your clip is ready": 1}
    await bed.video("a 4s clip of a red kite", user=REQUESTER)
    request = next(iter(await bed.app.store.requests.open_requests("slack", bed.fake.team, REQUESTER)))
    await bed.run_until(request.id, [R.IN_REVIEW])
    await bed.settle()

    assert bed.fake.lose_post_answers_to == {"🎬 Your clip is ready": 0}  # the answer was lost
    clips = [m for m in bed.replies(bed.parent()) if m.text.startswith("🎬 Your clip is ready")]
    assert len(clips) == 1, [m.text for m in clips]
    assert clips[0].metadata is not None and clips[0].metadata["event_type"] == "clipdesk_clip"
    assert len(bed.fake.calls_to("files.completeUploadExternal")) == 1  # the file went up once
    assert await bed.app.store.outbox.pending() == 0


async def test_a_clip_delivery_that_stalled_past_its_lease_does_not_post_beside_its_successor(
    bed: Bed,
) -> None:
    # Process A looks in the thread (no clip yet), then stalls (a starved connection pool, a busy
    # CPU: its lease renewals stall too) until its delivery lease lapses. Process B takes the entry
    # over and posts the clip. When A wakes up it must not post the clip a second time: the soak
    # saw exactly this (worker3 posted, serve0 posted again 18 s later, neither killed).
    stalled, release = asyncio.Event(), asyncio.Event()
    port = bed.platform.port
    look_up = port._reply_with_key

    async def look_up_then_stall(channel: str, thread: str, key: str) -> str | None:
        found = await look_up(channel, thread, key)
        if key.startswith("thread:") and not release.is_set():
            stalled.set()
            await release.wait()
        return found

    outbox_a = bed.app.deliverer.outbox
    renew = outbox_a.renew

    async def stalled_renew(entry_id: str, owner: str, until: datetime) -> bool:
        if stalled.is_set():
            await release.wait()
        return await renew(entry_id, owner, until)

    port._reply_with_key = look_up_then_stall  # type: ignore[method-assign]
    outbox_a.renew = stalled_renew  # type: ignore[method-assign]

    await bed.deliver(bed.fake.build_command("a 4s clip of a red kite", user=REQUESTER, channel=CHANNEL))
    request = next(iter(await bed.app.store.requests.open_requests("slack", bed.fake.team, REQUESTER)))

    async def run_process_a() -> None:
        await bed.platform.drain()
        await run_until(bed.app, request.id, [R.IN_REVIEW])

    process_a = asyncio.create_task(run_process_a())
    async with asyncio.timeout(60):
        await stalled.wait()

    # A's lease lapses; B, another process with its own Slack client and memory, takes over.
    store = bed.app.store
    async with store.engine.begin() as conn:
        await conn.execute(
            update(outbox_t)
            .where(outbox_t.c.lease_owner == bed.app.deliverer.config.owner)
            .values(lease_expires_at=utcnow() - timedelta(hours=1))
        )
    presenter_b = copy.copy(bed.app.deliverer.sinks["thread"])
    assert isinstance(presenter_b, ThreadPresenter)
    presenter_b.chat = ChatRouter([SlackChat(web_client(BOT_TOKEN, bed.fake.api_url))])
    presenter_b.posts = ThreadPosts(
        chat=presenter_b.chat, requests=presenter_b.requests, refs=presenter_b.refs
    )
    process_b = Deliverer(
        outbox=SqlOutbox(store.engine),
        uow=store,
        sinks=[presenter_b],
        clock=bed.app.clock,
        config=DeliveryConfig(owner="process-b"),
    )
    async with asyncio.timeout(60):
        await process_b.drain()
    clips = [m for m in bed.replies(bed.parent()) if m.text.startswith("🎬 Your clip is ready")]
    assert len(clips) == 1  # B posted it

    release.set()
    async with asyncio.timeout(120):
        await process_a
    clips = [m for m in bed.replies(bed.parent()) if m.text.startswith("🎬 Your clip is ready")]
    assert len(clips) == 1, [m.ts for m in clips]
    assert len(bed.fake.calls_to("files.completeUploadExternal")) == 1  # the file went up once
    assert await store.outbox.pending() == 0
