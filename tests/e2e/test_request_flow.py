"""A request from `/video` to a decided clip, through the real store, worker and outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain import RenderStatus, RequestStatus
from bot.messages import Action
from tests.fakes.media import decode_to_end
from tests.support.harness import LEAD, REQUESTER, STRANGER, Harness, make_harness
from tests.support.providers import FileJobProvider
from tests.support.seed import claim

R = RequestStatus


@pytest.fixture
async def harness(tmp_path: Path, db_url: str) -> AsyncIterator[Harness]:
    h = await make_harness(tmp_path, db_url, approvers=LEAD.user_id)
    yield h
    await h.close()


async def review_ready(harness: Harness, text: str = "a 4s explainer of laminar vs turbulent flow"):  # type: ignore[no-untyped-def]
    request = await harness.ask(text)
    assert request is not None
    return await harness.run_until(request.id, [R.IN_REVIEW])


async def test_free_request_renders_without_a_click_and_posts_the_clip_in_its_thread(
    harness: Harness,
) -> None:
    request = await harness.ask("a 4s product demo of our steel water bottle, vertical")
    assert request is not None
    done = await harness.run_until(request.id, [R.IN_REVIEW])
    clips = harness.chat.of_kind("clip")
    assert len(clips) == 1
    assert clips[0].target.thread == done.target.thread is not None
    assert clips[0].clip is not None and decode_to_end(clips[0].clip).frames > 0
    assert [b.action for b in clips[0].message.buttons] == [
        Action.APPROVE,
        Action.REGENERATE,
        Action.EDIT,
        Action.REJECT,
    ]
    renders = await harness.app.store.renders.renders_for(request.id)
    assert [r.status for r in renders] == [RenderStatus.READY]
    assert renders[0].seconds == 4 and renders[0].size == "720x1280"
    # One status message, updated in place rather than a stream of new ones.
    status = harness.chat.ref(await harness.app.store.outbox.message_ref(done.id, "status") or "")
    assert status.updates and "Ready" in status.updates[-1].text


async def test_approval_names_the_approver_and_a_second_click_changes_nothing(harness: Harness) -> None:
    request = await review_ready(harness)
    clip = harness.chat.of_kind("clip")[0]
    await harness.press(Action.APPROVE, request, LEAD, message_ref=clip.ref)
    await harness.press(Action.APPROVE, request, LEAD, message_ref=clip.ref)
    final = await harness.app.store.requests.get_request(request.id)
    assert final is not None and final.status == R.APPROVED
    assert "approved by @lead" in clip.updates[-1].text
    assert clip.updates[-1].buttons == ()
    assert any("already approved" in n for n in harness.chat.notices_to(LEAD.user_id))
    kinds = [e.kind.value for e in await harness.app.store.audit.audit_events()]
    assert kinds.count("review.approved") == 1


async def test_two_simultaneous_approvals_record_one_decision(harness: Harness) -> None:
    request = await review_ready(harness)
    await asyncio.gather(*(harness.press(Action.APPROVE, request, LEAD) for _ in range(5)))
    kinds = [e.kind.value for e in await harness.app.store.audit.audit_events()]
    assert kinds.count("review.approved") == 1
    assert len(harness.chat.notices_to(LEAD.user_id)) == 4


async def test_non_approver_cannot_approve_and_nothing_changes(harness: Harness) -> None:
    request = await review_ready(harness)
    await harness.press(Action.APPROVE, request, STRANGER)
    await harness.press(Action.APPROVE, request, REQUESTER)
    after = await harness.app.store.requests.get_request(request.id)
    assert after is not None and after.status == R.IN_REVIEW
    assert "Only approvers" in harness.chat.notices_to(STRANGER.user_id)[0]
    assert "Only approvers" in harness.chat.notices_to(REQUESTER.user_id)[0]


@pytest.mark.parametrize("allowed", [False, True])
async def test_self_approval_follows_the_policy(tmp_path: Path, db_url: str, allowed: bool) -> None:
    h = await make_harness(
        tmp_path, db_url, approvers=f"{LEAD.user_id},{REQUESTER.user_id}", self_approval=allowed
    )
    try:
        request = await review_ready(h)
        await h.press(Action.APPROVE, request, REQUESTER)
        after = await h.app.store.requests.get_request(request.id)
        assert after is not None
        if allowed:
            assert after.status == R.APPROVED
        else:
            assert after.status == R.IN_REVIEW
            assert "someone else" in h.chat.notices_to(REQUESTER.user_id)[0]
    finally:
        await h.close()


async def test_reject_needs_a_reason_from_an_approver(harness: Harness) -> None:
    request = await review_ready(harness)
    await harness.press(Action.REJECT, request, LEAD)
    assert harness.chat.forms[-1][1].action == Action.REJECT
    await harness.submit(Action.REJECT, request, {"reason": "  "}, LEAD)
    assert "needs a reason" in harness.chat.notices_to(LEAD.user_id)[-1]
    await harness.submit(Action.REJECT, request, {"reason": "off-brand colours"}, LEAD)
    after = await harness.app.store.requests.get_request(request.id)
    assert after is not None and after.status == R.REJECTED
    events = [e for e in await harness.app.store.audit.audit_events() if e.kind == "review.rejected"]
    assert events[0].data["reason"] == "off-brand colours"


async def test_regenerate_makes_version_two_in_the_same_thread(harness: Harness) -> None:
    request = await review_ready(harness)
    await harness.press(Action.REGENERATE, request, REQUESTER)
    again = await harness.run_until(request.id, [R.IN_REVIEW])
    clips = harness.chat.of_kind("clip")
    assert len(clips) == 2 and clips[1].target.thread == request.target.thread == again.target.thread
    assert "v2" in clips[1].message.text
    # The old version can no longer be approved; the new one can.
    renders = await harness.app.store.renders.renders_for(request.id)
    await harness.press(Action.APPROVE, request, LEAD, render_id=renders[0].id)
    assert "older version" in harness.chat.notices_to(LEAD.user_id)[-1]
    await harness.press(Action.APPROVE, request, LEAD, render_id=renders[1].id)
    assert (await harness.app.store.requests.get_request(request.id)).status == R.APPROVED  # type: ignore[union-attr]


async def test_edit_prompt_through_the_form_makes_a_new_brief_version(harness: Harness) -> None:
    request = await review_ready(harness)
    await harness.press(Action.EDIT, request, REQUESTER)
    form = harness.chat.forms[-1][1]
    assert form.fields[0].value  # prefilled with the brief
    await harness.submit(Action.EDIT, request, {"prompt": "a 4s explainer of laminar flow in honey"})
    await harness.run_until(request.id, [R.IN_REVIEW])
    brief = await harness.app.store.requests.latest_brief(request.id)
    assert brief is not None and brief.version == 2 and "honey" in brief.prompt


async def test_paid_render_waits_for_the_render_click(tmp_path: Path, db_url: str) -> None:
    paid = FileJobProvider(tmp_path / "paid", name="paid", price=0.10)
    h = await make_harness(tmp_path, db_url, providers={"paid": paid}, provider="paid")
    try:
        request = await h.ask("a 4s product demo of a steel bottle")
        assert request is not None
        request = await h.run_until(request.id, [R.AWAITING_CONFIRMATION])
        brief_msg = h.chat.of_kind("post")[0].message
        assert [b.action for b in brief_msg.buttons] == [Action.RENDER, Action.EDIT, Action.CANCEL]
        assert any(f.label == "Estimated cost" and f.value == "$0.40" for f in brief_msg.fields)
        assert paid.submits() == []
        await h.press(Action.RENDER, request)
        await h.press(Action.RENDER, request)  # a double click
        await h.run_until(request.id, [R.IN_REVIEW])
        assert len(paid.submits()) == 1
        assert len(await h.app.store.renders.renders_for(request.id)) == 1
    finally:
        await h.close()


async def test_a_retried_platform_event_creates_no_second_request(harness: Harness) -> None:
    first = await harness.ask("a 4s clip of a lighthouse at dusk", event_id="Ev1")
    second = await harness.ask("a 4s clip of a lighthouse at dusk", event_id="Ev1")
    assert first is not None and second is None
    assert len(harness.chat.of_kind("parent")) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "Tell me what to make"),
        ("x" * 5000, "keep it under 4,000"),
        ("🎬🎥✨🔥", "a few words about the video"),
        ("a dog --seconds banana", "not a whole number"),
        ("a dog --seconds 7", "can make clips of 2, 4, 8, 12 seconds"),
        ("a dog --aspect 4:3", "Use one of 16:9, 9:16, 1:1"),
        ("a dog --variants 9", "from 1 to 4"),
        ("a dog --provider sora", "I don't know the provider `sora`"),
        ("a dog --colour red", "I don't know the option `--colour`"),
    ],
)
async def test_bad_input_gets_a_clear_private_answer_and_queues_nothing(
    harness: Harness, text: str, expected: str
) -> None:
    assert await harness.ask(text) is None
    notices = harness.chat.notices_to(REQUESTER.user_id)
    assert len(notices) == 1 and expected in notices[0]
    assert harness.chat.of_kind("parent") == []
    assert await claim(harness.app.store, "probe", harness.app.clock.now(), 1, 10) == []


async def test_other_scripts_are_a_valid_ask(harness: Harness) -> None:
    request = await harness.ask("東京の夜景のタイムラプス 4秒 --seconds 4")
    assert request is not None
    brief = await harness.app.store.requests.latest_brief(request.id)
    assert brief is not None and "東京" in brief.prompt


async def test_button_for_unknown_or_decided_request_is_answered(harness: Harness) -> None:
    from bot.domain import VideoRequest

    request = await review_ready(harness)
    ghost = VideoRequest(
        id="req_missing", target=request.target, requester="x", raw_text="", options=request.options
    )
    await harness.press(Action.APPROVE, ghost, LEAD)
    assert "can't find that video request" in harness.chat.notices_to(LEAD.user_id)[-1]
    await harness.press(Action.CANCEL, request, REQUESTER)
    assert "already in review" in harness.chat.notices_to(REQUESTER.user_id)[-1]


async def test_vague_ask_gets_one_question_and_the_reply_refines_it(harness: Harness) -> None:
    request = await harness.ask("make a video")
    assert request is not None and request.status == R.CLARIFYING
    assert "What should the video show" in harness.chat.of_kind("post")[-1].message.text
    await harness.reply(request, "a red kite flying over a green hill --seconds 4")
    after = await harness.run_until(request.id, [R.IN_REVIEW])
    brief = await harness.app.store.requests.latest_brief(after.id)
    assert brief is not None and "kite" in brief.prompt


async def test_status_and_usage_commands(harness: Harness) -> None:
    request = await review_ready(harness)
    await harness.ask("status")
    assert request.id in harness.chat.notices_to(REQUESTER.user_id)[-1]
    await harness.ask("usage")
    assert "spent" in harness.chat.notices_to(REQUESTER.user_id)[-1]
    await harness.ask("help")
    assert "/video" in harness.chat.notices_to(REQUESTER.user_id)[-1]


async def test_a_thread_that_cannot_be_opened_fails_the_request_and_says_so(harness: Harness) -> None:
    harness.chat.fail_threads = 1
    await harness.ask("a 4s clip of a kite")
    [request] = await harness.app.store.requests.requests_in_status(R.FAILED)
    assert request.failure_reason and "could not open a thread" in request.failure_reason
    told = harness.chat.notices_to(REQUESTER.user_id)[-1]
    assert "could not open a thread" in told and "Invite me" in told  # privately: there is no thread
    await harness.app.worker.claim_once()
    await harness.app.worker.drain()
    renders = await harness.app.store.renders.renders_for(request.id)
    assert all(r.status == RenderStatus.CANCELLED and r.remote_id is None for r in renders)
