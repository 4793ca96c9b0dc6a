"""Every text a person sends is bounded and clean before it is stored or sent on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain import RequestStatus
from bot.messages import Action
from bot.text_input import MAX_TEXT_CHARS
from tests.support.harness import LEAD, REQUESTER, Harness, make_harness
from tests.support.providers import FileJobProvider

R = RequestStatus


@pytest.fixture
async def paid(tmp_path: Path, db_url: str) -> AsyncIterator[Harness]:
    provider = FileJobProvider(tmp_path / "jobs", price=0.1)
    h = await make_harness(tmp_path, db_url, providers={"filejob": provider}, approvers=LEAD.user_id)
    yield h
    await h.close()


async def test_a_megabyte_reply_is_refused_with_the_limit_and_nothing_reaches_brief_or_audit(
    paid: Harness,
) -> None:
    request = await paid.ask("a 4s clip of a lighthouse at dusk")
    assert request is not None and request.status == R.AWAITING_CONFIRMATION
    await paid.reply(request, "x" * 1_000_000)
    told = paid.chat.notices_to(REQUESTER.user_id)[-1]
    assert f"keep it under {MAX_TEXT_CHARS:,}" in told
    [brief] = await paid.app.store.requests.briefs_for(request.id)
    assert brief.version == 1
    assert all(len(str(e.data)) < 10_000 for e in await paid.app.store.audit.audit_events())


@pytest.mark.parametrize("where", ["ask", "reply", "edit", "reason"])
async def test_a_nul_byte_gets_a_clear_answer_wherever_it_is_sent(paid: Harness, where: str) -> None:
    bad = "a lighthouse\x00 at dusk"
    if where == "ask":
        assert await paid.ask(bad) is None
    else:
        request = await paid.ask("a 4s clip of a lighthouse at dusk")
        assert request is not None
        if where == "reply":
            await paid.reply(request, bad)
        elif where == "edit":
            await paid.submit(Action.EDIT, request, {"prompt": bad})
        else:
            await paid.press(Action.RENDER, request)
            request = await paid.run_until(request.id, [R.IN_REVIEW])
            await paid.submit(Action.REJECT, request, {"reason": bad}, LEAD)
        after = await paid.request(request.id)
        assert after.status in (R.AWAITING_CONFIRMATION, R.IN_REVIEW)
    actor = LEAD if where == "reason" else REQUESTER
    assert "control characters" in paid.chat.notices_to(actor.user_id)[-1]
