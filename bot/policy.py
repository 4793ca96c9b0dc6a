"""Who may do what, and what may be made: the rules the core applies to every platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot import texts
from bot.commands import Actor
from bot.domain import ReplyTarget, VideoRequest
from bot.errors import NotAllowed
from bot.ports.storage import BudgetLimit


@dataclass(frozen=True)
class Budgets:
    """Monthly spend limits in USD; ``None`` means unlimited."""

    per_user: float | None = None
    per_channel: float | None = None
    per_workspace: float | None = None


@dataclass(frozen=True)
class Policy:
    """The rules for one workspace (channel overrides are separate ``Policy`` values)."""

    approvers: frozenset[str] = frozenset()
    approver_groups: frozenset[str] = frozenset()
    requesters: frozenset[str] = frozenset()  # empty: everyone may request
    requester_groups: frozenset[str] = frozenset()
    self_approval: bool = False
    auto_render_max_cost: float = 0.0
    budgets: Budgets = field(default_factory=Budgets)
    blocked_terms: tuple[str, ...] = ()
    blocked_patterns: tuple[str, ...] = ()  # run by a PatternMatcher (bot.moderation), never on the loop
    allow_real_people: bool = False
    protected_people: tuple[str, ...] = ()
    disclosure: str = "AI-generated video"
    default_provider: str | None = None
    allowed_providers: tuple[str, ...] = ()
    provider_order: tuple[str, ...] = ()
    review_expiry_hours: float | None = None
    draft_first: bool = False  # asks render at the draft tier first unless they say otherwise
    # No approvers and ``open_approval``: anyone in the workspace but the requester may decide.
    # A channel with an empty approver list is refused at start-up unless this is written out.
    open_approval: bool = False

    @property
    def has_approvers(self) -> bool:
        return bool(self.approvers or self.approver_groups)

    def is_approver(self, actor: Actor) -> bool:
        if not self.has_approvers:
            # Open approval: anyone of the request's workspace (the use cases bind every command to
            # it) may decide, except the requester unless self-approval is on; start-up warns.
            return True
        return actor.user_id in self.approvers or bool(actor.groups & self.approver_groups)

    def approver_names(self) -> str:
        names = [f"<@{a}>" for a in sorted(self.approvers)]
        names += [f"group {g}" for g in sorted(self.approver_groups)]
        return ", ".join(names) or "anyone"

    def check_can_request(self, actor: Actor) -> None:
        if not (self.requesters or self.requester_groups):
            return
        if actor.user_id in self.requesters or actor.groups & self.requester_groups:
            return
        raise NotAllowed(texts.REQUESTERS_ONLY)

    def check_can_decide(self, actor: Actor, request: VideoRequest, verb: str) -> None:
        if not self.is_approver(actor):
            raise NotAllowed(texts.approvers_only(self.approver_names(), verb))
        if actor.user_id == request.requester and not self.self_approval:
            raise NotAllowed(texts.not_your_own(self.approver_names(), verb))

    def check_can_steer(self, actor: Actor, request: VideoRequest, verb: str) -> None:
        """Render, edit, regenerate, cancel: the requester or an approver."""
        if actor.user_id == request.requester or (self.has_approvers and self.is_approver(actor)):
            return
        if not self.has_approvers:
            return
        raise NotAllowed(texts.requester_or_approver(verb))

    def budget_limits(self, target: ReplyTarget, requester: str, now: datetime) -> list[BudgetLimit]:
        since = month_start(now)
        limits: list[BudgetLimit] = []
        if self.budgets.per_user is not None:
            limits.append(BudgetLimit("user", budget_key(target, requester), self.budgets.per_user, since))
        if self.budgets.per_channel is not None:
            limits.append(
                BudgetLimit("channel", budget_key(target, target.channel), self.budgets.per_channel, since)
            )
        if self.budgets.per_workspace is not None:
            limits.append(BudgetLimit("workspace", budget_key(target), self.budgets.per_workspace, since))
        return limits


def budget_key(target: ReplyTarget, *parts: str) -> str:
    return ":".join((target.platform, target.workspace, *parts))


def month_start(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return datetime(now.year, now.month, 1, tzinfo=UTC)
