"""A request's thread is opened once, and its clip posted once, even when Slack's answer is lost."""

from __future__ import annotations

from bot.domain import RequestStatus
from tests.slack.conftest import CHANNEL, REQUESTER, Bed

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
