"""No workspace reaches another's requests: a signed payload from workspace B naming A's finds nothing.

The app is distributed (one signing secret for every workspace), so Slack signs a payload
from workspace B just as it signs A's. Approval is open (no approvers configured): the
default a new install runs with, and the mode in which these gaps were found.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.commands import Actor, Caller, Decide
from bot.domain import Decision, ReplyTarget, RequestStatus
from tests.fakes.slack import FakeSlack, Posted
from tests.slack.conftest import LEAD, REQUESTER, STRANGER, Bed, start_bed
from tests.support.providers import FileJobProvider

R = RequestStatus
OTHER_TEAM = "T0OTHERTEAM"
NOT_FOUND = "I can't find that video request"


@contextmanager
def signed_by_another_workspace(fake: FakeSlack) -> Iterator[None]:
    home = fake.team
    fake.team = OTHER_TEAM
    try:
        yield
    finally:
        fake.team = home


@pytest.fixture
async def open_bed(tmp_path: Path, sqlite_url: str, fake: FakeSlack) -> AsyncIterator[Bed]:
    paid = FileJobProvider(tmp_path / "jobs", price=0.10)
    b = await start_bed(
        tmp_path, sqlite_url, fake, provider=paid, slack_approvers="", slack_approver_groups=""
    )
    yield b
    await b.close()


def button_message(bed: Bed, headline: str) -> Posted:
    return next(m for m in bed.replies(bed.parent()) if m.text.startswith(headline))


async def test_render_edit_and_cancel_from_another_workspace_find_nothing_and_change_nothing(
    open_bed: Bed,
) -> None:
    bed = open_bed
    await bed.video("a 4s clip of a lighthouse at dusk", user=REQUESTER)
    brief = button_message(bed, "📝 Brief v1")
    request = await bed.request_in(bed.parent())
    assert request.status == R.AWAITING_CONFIRMATION
    views_before = len(bed.fake.views)

    with signed_by_another_workspace(bed.fake):
        for action in ("render", "edit", "cancel"):
            await bed.click(brief, action, user=STRANGER)

    told = bed.fake.ephemeral_to(STRANGER)
    assert len(told) == 3 and all(NOT_FOUND in line for line in told)
    assert len(bed.fake.views) == views_before  # the Edit form (with A's prompt) never opened
    after = await bed.request_in(bed.parent())
    assert after.status == R.AWAITING_CONFIRMATION
    assert await bed.app.store.renders.renders_for(request.id) == []  # A's budget untouched
    assert not {"request.queued", "request.cancelled"} & set(await bed.audit_kinds())


async def test_an_edit_form_submitted_from_another_workspace_writes_no_brief(open_bed: Bed) -> None:
    bed = open_bed
    await bed.video("a 4s clip of a lighthouse at dusk", user=REQUESTER)
    brief = button_message(bed, "📝 Brief v1")
    await bed.click(brief, "edit", user=REQUESTER)  # A's own modal, opened for A
    view = bed.fake.views[-1]

    with signed_by_another_workspace(bed.fake):
        await bed.deliver(bed.fake.build_submission(view, {"prompt": "replaced by B"}, user=STRANGER))
        await bed.settle()

    assert NOT_FOUND in bed.fake.ephemeral_to(STRANGER)[-1]
    request = await bed.request_in(bed.parent())
    briefs = await bed.app.store.requests.briefs_for(request.id)
    assert [b.version for b in briefs] == [1] and request.raw_text == "a 4s clip of a lighthouse at dusk"


async def test_approve_from_another_workspace_finds_nothing_and_the_requester_cannot_self_approve(
    tmp_path: Path, sqlite_url: str, fake: FakeSlack
) -> None:
    bed = await start_bed(tmp_path, sqlite_url, fake, slack_approvers="", slack_approver_groups="")
    try:
        await bed.video("a 4s clip of a red kite", user=REQUESTER)
        request = await bed.request_in(bed.parent())
        await bed.run_until(request.id, [R.IN_REVIEW])
        clip = button_message(bed, "🎬 Your clip is ready")

        with signed_by_another_workspace(bed.fake):
            await bed.click(clip, "approve", user=STRANGER)
        assert NOT_FOUND in bed.fake.ephemeral_to(STRANGER)[-1]

        await bed.click(clip, "approve", user=REQUESTER)  # open approval, but not one's own clip
        assert "someone else must approve it" in bed.fake.ephemeral_to(REQUESTER)[-1]
        assert (await bed.request_in(bed.parent())).status == R.IN_REVIEW

        await bed.click(clip, "approve", user=LEAD)  # anyone else in the workspace may
        assert (await bed.request_in(bed.parent())).status == R.APPROVED
        assert f"approved by <@{LEAD}>" in clip.text
    finally:
        await bed.close()


async def test_a_decision_made_through_the_use_case_updates_the_clip_message(bed: Bed) -> None:
    await bed.video("a 4s clip of a red kite", user=REQUESTER)
    request = await bed.request_in(bed.parent())
    await bed.run_until(request.id, [R.IN_REVIEW])
    clip = button_message(bed, "🎬 Your clip is ready")
    lead = Actor(LEAD, f"<@{LEAD}>")
    where = ReplyTarget("slack", bed.fake.team, request.target.channel)

    # No Slack payload at all: another entry point (the API, the review page) decides.
    await bed.app.usecases.decisions.decide(Decide(Caller(lead, where), request.id, Decision.APPROVED))
    await bed.run_until(request.id, [R.APPROVED])

    assert f"approved by <@{LEAD}>" in clip.text and clip.buttons() == []


async def test_start_up_warns_when_approval_is_open(
    tmp_path: Path, sqlite_url: str, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    bed = await start_bed(tmp_path, sqlite_url, fake, slack_approvers="", slack_approver_groups="")
    await bed.close()
    assert any("approval is open on Slack" in r.getMessage() for r in caplog.records)
