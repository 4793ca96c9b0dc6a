"""Who may decide on a clip, what a click changes, and that clicks survive a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.domain import RequestStatus
from tests.fakes.slack import FakeSlack, Posted
from tests.slack.conftest import GROUP_LEAD, LEAD, LEADS_GROUP, REQUESTER, STRANGER, Bed, start_bed

R = RequestStatus


async def clip_ready(
    bed: Bed, text: str = "a 4s explainer of laminar vs turbulent flow", user: str = REQUESTER
) -> Posted:
    """Ask, render, and return the message with the decision buttons."""
    await bed.video(text, user=user)
    parent = bed.parent()
    request = await bed.request_in(parent)
    await bed.run_until(request.id, [R.IN_REVIEW])
    clips = [m for m in bed.replies(parent) if m.text.startswith("🎬 Your clip is ready")]
    return clips[-1]


async def test_non_approver_click_is_refused_privately_and_changes_nothing(bed: Bed) -> None:
    clip = await clip_ready(bed)
    versions = len(clip.versions)

    status, _ = await bed.click(clip, "approve", user=STRANGER)

    assert status == 200
    (refusal,) = bed.fake.ephemeral_to(STRANGER)
    assert f"Only approvers (<@{LEAD}>, group {LEADS_GROUP}) can approve" in refusal
    assert len(clip.versions) == versions and len(clip.buttons()) == 4
    request = await bed.request_in(bed.parent())
    assert request.status == R.IN_REVIEW
    assert "review.approved" not in await bed.audit_kinds()


async def test_an_approver_cannot_approve_their_own_request(bed: Bed) -> None:
    clip = await clip_ready(bed, user=LEAD)

    await bed.click(clip, "approve", user=LEAD)

    assert "someone else must approve it" in bed.fake.ephemeral_to(LEAD)[-1]
    assert (await bed.request_in(bed.parent())).status == R.IN_REVIEW


async def test_member_of_an_approver_user_group_may_approve(bed: Bed) -> None:
    clip = await clip_ready(bed)

    await bed.click(clip, "approve", user=GROUP_LEAD)

    asked = bed.fake.calls_to("usergroups.users.list")
    assert asked and {c.params["usergroup"] for c in asked} == {LEADS_GROUP}
    assert f"approved by <@{GROUP_LEAD}>" in clip.text and clip.buttons() == []
    assert (await bed.request_in(bed.parent())).status == R.APPROVED


async def test_user_group_membership_is_cached_between_clicks(bed: Bed) -> None:
    clip = await clip_ready(bed)
    before = len(bed.fake.calls_to("usergroups.users.list"))

    await bed.click(clip, "approve", user=STRANGER)
    await bed.click(clip, "approve", user=STRANGER)

    assert len(bed.fake.calls_to("usergroups.users.list")) == before


async def test_double_click_on_approve_records_one_decision(bed: Bed) -> None:
    clip = await clip_ready(bed)
    first = bed.fake.build_click(clip, "clipdesk_approve", user=LEAD)
    second = bed.fake.build_click(clip, "clipdesk_approve", user=LEAD)

    acks = await asyncio.gather(bed.deliver(first), bed.deliver(second))
    await bed.settle()

    assert [status for status, _ in acks] == [200, 200]
    assert (await bed.audit_kinds()).count("review.approved") == 1
    approved_versions = [text for text, _ in clip.versions if "approved by" in text]
    assert len(approved_versions) == 1
    assert any("already approved" in text for text in bed.fake.ephemeral_to(LEAD))


async def test_reject_asks_for_a_reason_in_a_modal_and_records_it(bed: Bed) -> None:
    clip = await clip_ready(bed)

    await bed.click(clip, "reject", user=LEAD)
    (view,) = bed.fake.views
    assert view["callback_id"] == "clipdesk_reject"
    status, body = await bed.deliver(
        bed.fake.build_submission(view, {"reason": "logo is cut off"}, user=LEAD)
    )
    await bed.settle()

    assert status == 200 and not body
    assert f"rejected by <@{LEAD}>" in clip.text and "logo is cut off" in clip.all_text()
    assert clip.buttons() == []
    assert (await bed.request_in(bed.parent())).status == R.REJECTED


async def test_edit_prompt_opens_a_prefilled_modal_and_the_submission_makes_brief_v2(bed: Bed) -> None:
    clip = await clip_ready(bed)
    parent = bed.parent()
    request = await bed.request_in(parent)
    brief_v1 = await bed.app.store.requests.latest_brief(request.id)
    assert brief_v1 is not None

    status, _ = await bed.click(clip, "edit", user=REQUESTER)

    assert status == 200
    (opened,) = bed.fake.calls_to("views.open")
    assert opened.params["trigger_id"]
    (view,) = bed.fake.views
    (field,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert field["element"]["initial_value"] == brief_v1.prompt

    status, body = await bed.deliver(
        bed.fake.build_submission(
            view, {"prompt": "the bottle on a mountain summit at sunrise"}, user=REQUESTER
        )
    )
    await bed.settle()

    assert status == 200 and not body
    briefs = [m for m in bed.replies(parent) if m.text.startswith("📝 Brief")]
    assert [m.headline for m in briefs] == ["📝 Brief v1", "📝 Brief v2"]
    assert "mountain summit" in briefs[-1].all_text()
    await bed.run_until(request.id, [R.IN_REVIEW])
    clips = [m for m in bed.replies(parent) if m.text.startswith("🎬 Your clip is ready")]
    assert [m.headline for m in clips][-1] == "🎬 Your clip is ready for review (v2)"


async def test_an_empty_prompt_in_the_modal_is_answered_with_a_field_error(bed: Bed) -> None:
    clip = await clip_ready(bed)
    await bed.click(clip, "edit", user=REQUESTER)
    (view,) = bed.fake.views

    status, body = await bed.deliver(bed.fake.build_submission(view, {"prompt": "   "}, user=REQUESTER))
    await bed.settle()

    assert status == 200
    assert body == {"response_action": "errors", "errors": {"field_prompt": "This can't be empty."}}
    assert (await bed.request_in(bed.parent())).status == R.IN_REVIEW


async def test_regenerate_renders_version_2_in_the_same_thread(bed: Bed) -> None:
    clip = await clip_ready(bed)
    parent = bed.parent()
    request = await bed.request_in(parent)

    await bed.click(clip, "regenerate", user=REQUESTER)
    await bed.run_until(request.id, [R.IN_REVIEW])

    clips = [m for m in bed.replies(parent) if m.text.startswith("🎬 Your clip is ready")]
    assert [m.headline for m in clips] == [
        "🎬 Your clip is ready for review (v1)",
        "🎬 Your clip is ready for review (v2)",
    ]
    assert [f.thread_ts for f in bed.fake.files.values()] == [parent.ts, parent.ts]
    assert len(bed.fake.parents(parent.channel)) == 1
    assert len(await bed.app.store.renders.renders_for(request.id)) == 2


async def test_buttons_keep_working_after_a_restart(tmp_path: Path, sqlite_url: str, fake: FakeSlack) -> None:
    first = await start_bed(tmp_path, sqlite_url, fake)
    clip = await clip_ready(first)
    await first.close()

    second = await start_bed(tmp_path, sqlite_url, fake)
    try:
        await second.click(clip, "approve", user=LEAD)
        assert f"approved by <@{LEAD}>" in clip.text and clip.buttons() == []
        assert (await second.request_in(second.parent())).status == R.APPROVED
    finally:
        await second.close()
