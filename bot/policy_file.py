"""Read ``clipdesk.toml``: the policy per workspace, with channel overrides.

```toml
[defaults]                      # every workspace
approvers = ["U012LEAD"]
approver_groups = ["S0APPROVE", "Video leads"]   # Slack user groups, Discord roles (ids or names)
blocked_terms = ["deepfake"]
[defaults.budgets]
user_monthly = 20.0

[workspaces."slack:T0123"]      # one workspace ("platform:workspace id")
auto_render_max_cost = 1.0

[channels."slack:T0123:C0456"]  # one channel ("platform:workspace:channel")
allowed_providers = ["animatic", "veo"]
```

A later level overrides only the keys it sets. A typo or a wrong type fails
at start-up with the file, the line and the reason, so a policy is never
silently half-applied. So do two foot-guns: a section whose ``approvers = []``
(or ``approver_groups = []``) leaves nobody to approve, unless
``open_approval = true`` is written to mean it; and a blocked pattern that is
invalid or too slow on adversarial text (vetted by the ``PatternMatcher``).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.domain import ReplyTarget
from bot.moderation import PatternMatcher
from bot.policy import Budgets, Policy


class PolicyFileError(ValueError):
    """The policy file cannot be used; the message names the line and the reason."""


_LISTS = {
    "approvers",
    "approver_groups",
    "requesters",
    "requester_groups",
    "blocked_terms",
    "blocked_patterns",
    "allowed_providers",
    "provider_order",
    "protected_people",
}
_BOOLS = {"self_approval", "allow_real_people", "open_approval", "draft_first"}
_APPROVER_LISTS = ("approvers", "approver_groups")
_NUMBERS = {"auto_render_max_cost", "review_expiry_hours"}
_STRINGS = {"disclosure", "default_provider"}
_BUDGETS = {"user_monthly", "channel_monthly", "workspace_monthly"}
KEYS = _LISTS | _BOOLS | _NUMBERS | _STRINGS | {"budgets"}
SECTIONS = {"defaults", "workspaces", "channels", "webhooks"}  # [[webhooks]]: adapters.webhooks_out


@dataclass(frozen=True)
class PolicySet:
    """The base policy and its overrides; :meth:`for_target` picks the one that applies."""

    base: Policy
    workspaces: dict[str, Policy] = field(default_factory=dict)
    channels: dict[str, Policy] = field(default_factory=dict)

    def for_target(self, target: ReplyTarget) -> Policy:
        channel = self.channels.get(f"{target.platform}:{target.workspace}:{target.channel}")
        if channel is not None:
            return channel
        return self.workspaces.get(f"{target.platform}:{target.workspace}", self.base)


def _line_of(text: str, needle: str, section: str | None = None) -> int:
    """The line of ``needle`` (a key or a section name), looked for from ``section``'s header on."""
    start = 0
    if section is not None:
        header = re.search(rf"^[ \t]*\[[ \t]*{re.escape(section)}[ \t]*\]", text, re.MULTILINE)
        start = header.start() if header else 0
    # [ \t]*, not \s*: a blank line before the key must not be taken for the key's line.
    pattern = re.compile(
        rf"^[ \t]*\"?{re.escape(needle)}\"?[ \t]*=|^[ \t]*\[.*{re.escape(needle)}.*\]", re.MULTILINE
    )
    match = pattern.search(text, start) or pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 0


class _Reader:
    def __init__(self, text: str, source: str, matcher: PatternMatcher | None) -> None:
        self.text = text
        self.source = source
        self.matcher = matcher
        self.section: str | None = None  # the section being read, so errors name its line

    def fail(self, key: str, reason: str) -> PolicyFileError:
        line = _line_of(self.text, key, self.section)
        where = f"{self.source} line {line}" if line else self.source
        return PolicyFileError(f"{where}: {reason}")

    def apply(self, policy: Policy, table: dict[str, Any], where: str) -> Policy:
        self.section = where
        changes: dict[str, Any] = {}
        for key, value in table.items():
            if key not in KEYS:
                guess = difflib.get_close_matches(key, sorted(KEYS), n=1)
                hint = f" (did you mean `{guess[0]}`?)" if guess else ""
                raise self.fail(key, f"unknown setting `{key}` in [{where}]{hint}")
            if key in _LISTS:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise self.fail(key, f'`{key}` must be a list of strings, e.g. {key} = ["a", "b"]')
                if key == "blocked_patterns":
                    changes[key] = self._patterns(value)
                elif key in ("approvers", "approver_groups", "requesters", "requester_groups"):
                    changes[key] = frozenset(value)
                else:
                    changes[key] = tuple(value)
            elif key in _BOOLS:
                if not isinstance(value, bool):
                    raise self.fail(key, f"`{key}` must be true or false")
                changes[key] = value
            elif key in _NUMBERS:
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise self.fail(key, f"`{key}` must be a number of at least 0")
                changes[key] = float(value)
            elif key in _STRINGS:
                if not isinstance(value, str):
                    raise self.fail(key, f"`{key}` must be a string")
                changes[key] = value
            else:
                changes["budgets"] = self._budgets(policy.budgets, value, where)
        result = replace(policy, **changes)
        emptied = [key for key in table if key in _APPROVER_LISTS and not table[key]]
        if emptied and not result.has_approvers and not result.open_approval:
            raise self.fail(
                emptied[0],
                f"`{emptied[0]} = []` in [{where}] leaves nobody to approve clips there. List approvers, "
                "or write `open_approval = true` to let anyone in the workspace but the requester decide",
            )
        return result

    def _patterns(self, patterns: list[str]) -> tuple[str, ...]:
        for pattern in patterns:
            if self.matcher is not None:
                reason = self.matcher.vet(pattern)
            else:  # syntax only; the matcher that runs them vets them when it is wired
                try:
                    re.compile(pattern)
                    reason = None
                except re.error as exc:
                    reason = f"not a regular expression ({exc})"
            if reason is not None:
                raise self.fail(
                    "blocked_patterns", f"`blocked_patterns` has an invalid regex `{pattern}`: {reason}"
                )
        return tuple(patterns)

    def _budgets(self, current: Budgets, value: Any, where: str) -> Budgets:
        if not isinstance(value, dict):
            raise self.fail("budgets", f"`budgets` in [{where}] must be a table")
        values = {
            "per_user": current.per_user,
            "per_channel": current.per_channel,
            "per_workspace": current.per_workspace,
        }
        for key, amount in value.items():
            if key not in _BUDGETS:
                guess = difflib.get_close_matches(key, sorted(_BUDGETS), n=1)
                hint = f" (did you mean `{guess[0]}`?)" if guess else ""
                raise self.fail(key, f"unknown budget `{key}` in [{where}.budgets]{hint}")
            if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
                raise self.fail(key, f"budget `{key}` must be an amount in USD of at least 0")
            values["per_" + key.removesuffix("_monthly")] = float(amount)
        return Budgets(**values)


def parse_policy(
    text: str, base: Policy, source: str = "clipdesk.toml", *, matcher: PatternMatcher | None = None
) -> PolicySet:
    """Parse policy TOML on top of ``base`` (the environment's settings).

    Args:
        text: The TOML.
        base: The policy the environment describes.
        source: The file name for error messages.
        matcher: Vets ``blocked_patterns`` (syntax and speed); without one only the syntax is checked.

    Raises:
        PolicyFileError: Anything wrong, with the line and the reason.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(f"{source}: not valid TOML: {exc}") from None
    reader = _Reader(text, source, matcher)
    for section in data:
        if section not in SECTIONS:
            guess = difflib.get_close_matches(section, sorted(SECTIONS), n=1)
            hint = f" (did you mean [{guess[0]}]?)" if guess else ""
            raise reader.fail(section, f"unknown section [{section}]{hint}")
    defaults = reader.apply(base, _table(reader, data, "defaults"), "defaults")
    workspaces = {
        key: reader.apply(defaults, _sub(reader, value, f"workspaces.{key}"), f'workspaces."{key}"')
        for key, value in _table(reader, data, "workspaces").items()
    }
    channels: dict[str, Policy] = {}
    for key, value in _table(reader, data, "channels").items():
        parts = key.split(":")
        if len(parts) != 3:
            raise reader.fail(key, f'channel key "{key}" must be "platform:workspace:channel"')
        parent = workspaces.get(f"{parts[0]}:{parts[1]}", defaults)
        channels[key] = reader.apply(parent, _sub(reader, value, f"channels.{key}"), f'channels."{key}"')
    for key in workspaces:
        if len(key.split(":")) != 2:
            raise reader.fail(key, f'workspace key "{key}" must be "platform:workspace"')
    return PolicySet(defaults, workspaces, channels)


def _table(reader: _Reader, data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise reader.fail(name, f"[{name}] must be a table")
    return value


def _sub(reader: _Reader, value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise reader.fail(name.split(".", 1)[1], f"[{name}] must be a table")
    return value


def load_policy(path: Path, base: Policy, *, matcher: PatternMatcher | None = None) -> PolicySet:
    """Read and parse the policy file at ``path`` (see :func:`parse_policy`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyFileError(f"{path}: cannot be read: {exc.strerror}") from None
    return parse_policy(text, base, str(path), matcher=matcher)
