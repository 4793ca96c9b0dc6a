"""Governance in the core: policy file, blocked asks and appeals, budgets, review expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.runtime.container import build_app
from bot.domain import ReplyTarget, RequestStatus
from bot.messages import Action
from bot.policy import Policy
from bot.policy_file import PolicyFileError, parse_policy
from tests.support.harness import LEAD, REQUESTER, STRANGER, Harness, make_harness, test_settings
from tests.support.providers import FileJobProvider

R = RequestStatus

POLICY = """
[defaults]
approvers = ["U_LEAD"]
blocked_terms = ["deepfake"]

[defaults.budgets]
user_monthly = 0.5

[workspaces."test:W1"]
review_expiry_hours = 24

[channels."test:W1:C2"]
allow_real_people = true
blocked_terms = []
"""


def test_policy_file_levels_override_only_what_they_set() -> None:
    policies = parse_policy(POLICY, Policy())
    base = policies.for_target(ReplyTarget("slack", "T9", "C1"))
    workspace = policies.for_target(ReplyTarget("test", "W1", "C1"))
    channel = policies.for_target(ReplyTarget("test", "W1", "C2"))
    assert base.approvers == {"U_LEAD"} and base.review_expiry_hours is None
    assert workspace.review_expiry_hours == 24 and workspace.budgets.per_user == 0.5
    assert channel.allow_real_people and channel.blocked_terms == () and channel.review_expiry_hours == 24


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            '[defaults]\naprovers = ["U1"]\n',
            "line 2: unknown setting `aprovers` in [defaults] (did you mean `approvers`?)",
        ),
        ("[defaults]\nself_approval = 'yes'\n", "line 2: `self_approval` must be true or false"),
        ("[defualts]\n", "unknown section [defualts] (did you mean [defaults]?)"),
        ("[defaults]\nblocked_patterns = ['(unclosed']\n", "line 2: `blocked_patterns` has an invalid regex"),
        ("[defaults.budgets]\nuser_montly = 5\n", "line 2: unknown budget `user_montly`"),
        ("[defaults]\napprovers = \n", "not valid TOML"),
        ('[channels."slack:C1"]\nself_approval = true\n', 'must be "platform:workspace:channel"'),
    ],
)
def test_policy_file_mistakes_name_the_line_and_the_reason(text: str, says: str) -> None:
    with pytest.raises(PolicyFileError) as info:
        parse_policy(text, Policy(), "clipdesk.toml")
    assert says in str(info.value)


async def test_a_policy_file_with_a_typo_stops_start_up(tmp_path: Path, sqlite_url: str) -> None:
    bad = tmp_path / "clipdesk.toml"
    bad.write_text("[defaults]\nself_aproval = true\n")
    settings = test_settings(tmp_path, sqlite_url, policy_file=bad)
    with pytest.raises(PolicyFileError, match=r"clipdesk\.toml line 2: unknown setting `self_aproval`"):
        await build_app(settings, providers={"filejob": FileJobProvider(tmp_path / "jobs")}, migrate=False)


async def policy_harness(tmp_path: Path, db_url: str, **settings: Any) -> Harness:
    policy = tmp_path / "clipdesk.toml"
    policy.write_text(POLICY)
    return await make_harness(tmp_path, db_url, policy_file=policy, **settings)


async def test_blocked_prompt_renders_nothing_is_audited_and_can_be_appealed(
    tmp_path: Path, db_url: str
) -> None:
    h = await policy_harness(tmp_path, db_url)
    try:
        assert await h.ask("a deepfake of our competitor's launch --seconds 4") is None
        notice = h.chat.of_kind("notice")[-1]
        assert "deepfake" in notice.message.text and notice.user == REQUESTER.user_id
        assert [b.action for b in notice.message.buttons] == [Action.APPEAL]
        assert h.chat.of_kind("parent") == []  # nothing public, nothing queued
        blocked = [e for e in await h.app.store.audit.audit_events() if e.kind == "request.blocked"]
        assert blocked[0].data["category"] == "blocked_term"
        request = await h.app.store.requests.get_request(blocked[0].request_id or "")
        assert request is not None and request.status == R.BLOCKED
        assert await h.app.store.renders.renders_for(request.id) == []

        await h.press(Action.APPEAL, request, REQUESTER)
        appeal = h.chat.of_kind("post")[-1]
        assert [b.action for b in appeal.message.buttons] == [Action.APPEAL_ALLOW, Action.APPEAL_DENY]
        await h.press(Action.APPEAL_ALLOW, request, STRANGER, message_ref=appeal.ref)
        assert "Only approvers" in h.chat.notices_to(STRANGER.user_id)[-1]
        await h.press(Action.APPEAL_ALLOW, request, LEAD, message_ref=appeal.ref)
        assert "Allowed by @lead" in appeal.updates[-1].text
        done = await h.run_until(request.id, [R.IN_REVIEW])
        assert done.target.thread is not None
        kinds = [e.kind for e in await h.app.store.audit.audit_events()]
        assert "request.appealed" in kinds and "appeal.allowed" in kinds
    finally:
        await h.close()


async def test_real_named_people_are_refused_unless_the_channel_allows_them(
    tmp_path: Path, db_url: str
) -> None:
    h = await policy_harness(tmp_path, db_url)
    try:
        assert await h.ask("Taylor Swift unboxing our bottle --seconds 4") is None
        assert "real, named person" in h.chat.notices_to(REQUESTER.user_id)[-1]
        from bot.domain import new_id
        from bot.events import VideoCommand

        await h.handle(
            VideoCommand(
                ReplyTarget("test", "W1", "C2"),
                REQUESTER,
                "Taylor Swift unboxing our bottle --seconds 4",
                new_id("e"),
            )
        )
        assert len(h.chat.of_kind("parent")) == 1
    finally:
        await h.close()


async def test_over_budget_gets_the_remaining_amount_and_queues_nothing(tmp_path: Path, db_url: str) -> None:
    paid = FileJobProvider(tmp_path / "paid", name="paid", price=0.10)
    h = await policy_harness(tmp_path, db_url, providers={"paid": paid}, provider="paid")
    try:
        first = await h.ask("a 4s clip of a lighthouse")
        assert first is not None
        await h.press(Action.RENDER, first)  # $0.40 of the $0.50
        second = await h.ask("a 4s clip of a harbour")
        assert second is not None
        await h.press(Action.RENDER, second)
        notice = h.chat.notices_to(REQUESTER.user_id)[-1]
        assert "$0.10 left this month (of $0.50)" in notice and "Nothing was queued" in notice
        after = await h.app.store.requests.get_request(second.id)
        assert after is not None and after.status == R.AWAITING_CONFIRMATION
        assert await h.app.store.renders.renders_for(second.id) == []
        await h.ask("usage")
        assert "$0.40 spent of $0.50 · $0.10 left" in h.chat.notices_to(REQUESTER.user_id)[-1]
    finally:
        await h.close()


@pytest.mark.postgres
async def test_two_simultaneous_requests_cannot_overspend_a_budget(tmp_path: Path, postgres_url: str) -> None:
    paid = FileJobProvider(tmp_path / "paid", name="paid", price=0.10)
    h = await policy_harness(tmp_path, postgres_url, providers={"paid": paid}, provider="paid")
    try:
        asks = [await h.ask(f"a 4s clip of lighthouse number {i}") for i in range(4)]
        await asyncio.gather(*(h.press(Action.RENDER, a) for a in asks if a is not None))
        spent = await h.app.store.renders.usage(
            "user", f"test:W1:{REQUESTER.user_id}", h.app.clock.now() - timedelta(days=40)
        )
        assert spent == pytest.approx(0.40)
        renders = [r for a in asks if a for r in await h.app.store.renders.renders_for(a.id)]
        assert len(renders) == 1
        assert sum("left this month" in n for n in h.chat.notices_to(REQUESTER.user_id)) == 3
    finally:
        await h.close()


async def test_a_failed_render_the_provider_did_not_charge_is_not_counted(
    tmp_path: Path, db_url: str
) -> None:
    refusing = FileJobProvider(tmp_path / "paid", name="paid", price=0.10, refuse=True)
    h = await policy_harness(tmp_path, db_url, providers={"paid": refusing}, provider="paid")
    try:
        request = await h.ask("a 4s clip of a storm")
        assert request is not None
        await h.press(Action.RENDER, request)
        await h.run_until(request.id, [R.FAILED])
        spent = await h.app.store.renders.usage(
            "user", f"test:W1:{REQUESTER.user_id}", h.app.clock.now() - timedelta(days=40)
        )
        assert spent == 0
    finally:
        await h.close()


async def test_a_review_nobody_decides_expires_and_the_requester_is_told(tmp_path: Path, db_url: str) -> None:
    from bot.clock import ManualClock

    h = await policy_harness(tmp_path, db_url)
    try:
        request = await h.ask("a 4s clip of a kite")
        assert request is not None
        request = await h.run_until(request.id, [R.IN_REVIEW])
        expiry = h.app.usecases.expiry
        assert await expiry.run() == []
        expiry.clock = ManualClock(h.app.clock.now() + timedelta(hours=25))
        assert await expiry.run() == [request.id]
        await h.app.deliverer.drain()
        after = await h.app.store.requests.get_request(request.id)
        assert after is not None and after.status == R.EXPIRED
        assert "has expired" in h.chat.of_kind("post")[-1].message.text
        await h.press(Action.APPROVE, request, LEAD)
        assert "already expired" in h.chat.notices_to(LEAD.user_id)[-1]
        await h.press(Action.REGENERATE, request, REQUESTER)  # an expired review can start again
        await h.run_until(request.id, [R.IN_REVIEW])
    finally:
        await h.close()


async def test_only_listed_requesters_may_ask_and_only_allowed_providers_are_used(
    tmp_path: Path, db_url: str
) -> None:
    policy = tmp_path / "clipdesk.toml"
    policy.write_text(
        '[defaults]\nrequesters = ["U_REQ"]\nallowed_providers = ["filejob"]\n'
        'disclosure = "Made with AI for Example Co."\n'
    )
    other = FileJobProvider(tmp_path / "other", name="other")
    h = await make_harness(
        tmp_path,
        db_url,
        policy_file=policy,
        providers={"filejob": FileJobProvider(tmp_path / "jobs"), "other": other},
    )
    try:
        assert await h.ask("a 4s clip of a kite", STRANGER) is None
        assert "limited to listed people" in h.chat.notices_to(STRANGER.user_id)[-1]
        assert await h.ask("a 4s clip of a kite --provider other") is None
        assert "allows the providers filejob, not `other`" in h.chat.notices_to(REQUESTER.user_id)[-1]
        request = await h.ask("a 4s clip of a kite")
        assert request is not None
        await h.run_until(request.id, [R.IN_REVIEW])
        assert h.chat.of_kind("clip")[0].message.context.startswith("Made with AI for Example Co.")
        assert other.submits() == []
    finally:
        await h.close()
