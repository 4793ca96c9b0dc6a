"""Policy foot-guns stop start-up; blocked patterns cannot stall the process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.policy.patterns import RegexPatternMatcher
from adapters.runtime.container import build_app
from bot.domain import ReplyTarget
from bot.moderation import LocalRulesModerator, PatternTimeout
from bot.policy import Policy
from bot.policy_file import PolicyFileError, parse_policy
from tests.support.harness import make_harness, test_settings
from tests.support.providers import FileJobProvider

CHANNEL = ReplyTarget("slack", "T1", "C1")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[channels."slack:T1:C1"]\napprovers = []\n', 2),
        ('[workspaces."slack:T1"]\n\napprovers = []\n', 3),
        ("[defaults]\napprover_groups = []\napprovers = []\n", 2),
        ('[defaults]\napprovers = ["U1"]\n[channels."slack:T1:C1"]\napprovers = []\n', 4),
    ],
)
def test_an_empty_approver_list_is_refused_unless_open_approval_is_written(text: str, line: int) -> None:
    with pytest.raises(PolicyFileError) as info:
        parse_policy(text, Policy(), "clipdesk.toml")
    message = str(info.value)
    assert f"clipdesk.toml line {line}:" in message and "leaves nobody to approve" in message
    assert "open_approval = true" in message


def test_open_approval_written_out_is_accepted_and_kept() -> None:
    text = '[defaults]\napprovers = ["U1"]\n[channels."slack:T1:C1"]\napprovers = []\nopen_approval = true\n'
    policy = parse_policy(text, Policy()).for_target(CHANNEL)
    assert not policy.has_approvers and policy.open_approval


def test_an_empty_list_with_other_approvers_left_is_fine() -> None:
    text = '[defaults]\napprover_groups = ["S1"]\n[channels."slack:T1:C1"]\napprovers = []\n'
    assert parse_policy(text, Policy()).for_target(CHANNEL).approver_groups == {"S1"}


def test_open_approval_must_be_a_boolean() -> None:
    with pytest.raises(PolicyFileError, match="`open_approval` must be true or false"):
        parse_policy("[defaults]\nopen_approval = 'yes'\n", Policy())


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a|aa)+$", r"(\w|\d)+$", r"^(x|xx)+y"])
def test_a_catastrophic_pattern_is_refused_when_the_policy_loads(pattern: str) -> None:
    text = f"[defaults]\nblocked_patterns = ['{pattern}']\n"  # a TOML literal string: no escapes
    with pytest.raises(PolicyFileError) as info:
        parse_policy(text, Policy(), "clipdesk.toml", matcher=RegexPatternMatcher())
    assert "line 2: `blocked_patterns` has an invalid regex" in str(info.value)
    assert "catastrophic backtracking" in str(info.value)


async def test_start_up_stops_on_a_catastrophic_pattern(tmp_path: Path, sqlite_url: str) -> None:
    policy = tmp_path / "clipdesk.toml"
    policy.write_text('[defaults]\nblocked_patterns = ["(a|aa)+$"]\n')
    settings = test_settings(tmp_path, sqlite_url, policy_file=policy)
    with pytest.raises(PolicyFileError, match="catastrophic backtracking"):
        await build_app(settings, providers={"filejob": FileJobProvider(tmp_path / "jobs")}, migrate=False)


async def test_ordinary_patterns_pass_the_vetting_and_match_case_insensitively() -> None:
    matcher = RegexPatternMatcher()
    for pattern in (r"\bcompetitor\s+logo\b", r"^deep\s*fake", r"(?:acme|globex) (?:logo|mascot)"):
        assert matcher.vet(pattern) is None, pattern
    assert await matcher.first_match([r"\bcompetitor\s+logo\b"], "the Competitor Logo") is not None
    assert await matcher.first_match([r"\bcompetitor\s+logo\b"], "our logo") is None


async def test_a_slow_match_is_bounded_off_the_event_loop_and_the_ask_is_refused() -> None:
    matcher = RegexPatternMatcher(match_seconds=0.05)  # an unvetted pattern: the limit is the guard
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    running = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    with pytest.raises(PatternTimeout):
        await matcher.first_match([r"(a|aa)+$"], "a" * 2000 + "!")
    assert ticks > before  # the loop kept running while the pattern backtracked in a thread
    running.cancel()

    policy = Policy(blocked_patterns=(r"(a|aa)+$",))
    result = await LocalRulesModerator(policy, matcher).check("a" * 2000 + "!")
    assert not result.allowed and "could not be checked" in (result.reason or "")


async def test_blocked_patterns_from_the_file_block_an_ask(tmp_path: Path, sqlite_url: str) -> None:
    policy = tmp_path / "clipdesk.toml"
    policy.write_text('[defaults]\nblocked_patterns = ["\\\\bcompetitor\\\\s+logo\\\\b"]\n')
    h = await make_harness(tmp_path, sqlite_url, policy_file=policy)
    try:
        assert await h.ask("a 4s clip with the COMPETITOR   logo on a bottle") is None
        assert "matches a rule" in h.chat.of_kind("notice")[-1].message.text
        assert await h.ask("a 4s clip of our own logo on a bottle") is not None
    finally:
        await h.close()


async def test_patterns_without_a_matcher_fail_closed() -> None:
    moderator = LocalRulesModerator(Policy(blocked_patterns=("x",)))
    with pytest.raises(Exception, match="no pattern matcher"):
        await moderator.check("anything")
