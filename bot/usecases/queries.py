"""Reads on behalf of a caller: their open requests, their spend, what a form is prefilled with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot import texts
from bot.access import load_for
from bot.commands import Caller
from bot.domain import Brief, ReplyTarget, RequestStatus, VideoRequest
from bot.errors import AlreadyDecided
from bot.policy import Policy, budget_key, month_start
from bot.ports.media import Clock
from bot.ports.storage import RenderQueue, RequestRepo, UsageLedger

R = RequestStatus


@dataclass(frozen=True)
class OpenRequest:
    request: VideoRequest
    queue_position: int | None


@dataclass(frozen=True)
class UsageLine:
    scope: str  # "user" | "channel" | "workspace"
    spent: float
    limit: float | None


class Queries:
    def __init__(
        self,
        *,
        requests: RequestRepo,
        renders: RenderQueue,
        usage: UsageLedger,
        policy_for: Callable[[ReplyTarget], Policy],
        clock: Clock,
    ) -> None:
        self.requests = requests
        self.renders = renders
        self.usage = usage
        self.policy_for = policy_for
        self.clock = clock

    async def open_requests(self, caller: Caller) -> list[OpenRequest]:
        """The caller's own open requests in this workspace, oldest first."""
        where = caller.where
        rows: list[OpenRequest] = []
        for request in await self.requests.open_requests(where.platform, where.workspace, caller.user_id):
            position = None
            if request.status == R.QUEUED:
                renders = await self.renders.renders_for(request.id)
                if renders:
                    position = await self.renders.queue_position(renders[0].id)
            rows.append(OpenRequest(request, position))
        return rows

    async def spend(self, caller: Caller) -> list[UsageLine]:
        """This month's spend: the caller's own, and for approvers the channel's and workspace's."""
        where = caller.where
        policy = self.policy_for(where)
        since = month_start(self.clock.now())
        lines = [
            UsageLine(
                "user",
                await self.usage.usage("user", budget_key(where, caller.user_id), since),
                policy.budgets.per_user,
            )
        ]
        if policy.has_approvers and policy.is_approver(caller.actor):
            lines.append(
                UsageLine(
                    "channel",
                    await self.usage.usage("channel", budget_key(where, where.channel), since),
                    policy.budgets.per_channel,
                )
            )
            lines.append(
                UsageLine(
                    "workspace",
                    await self.usage.usage("workspace", budget_key(where), since),
                    policy.budgets.per_workspace,
                )
            )
        return lines

    async def edit_draft(self, caller: Caller, request_id: str) -> tuple[VideoRequest, Brief | None]:
        """What Edit prompt opens with, if the caller may change the request."""
        request = await load_for(self.requests, caller, request_id)
        self.policy_for(request.target).check_can_steer(caller.actor, request, "edit")
        return request, await self.requests.latest_brief(request.id)

    async def reject_draft(self, caller: Caller, request_id: str) -> VideoRequest:
        """What Reject opens with, if the caller may decide and the clip is still in review."""
        request = await load_for(self.requests, caller, request_id)
        self.policy_for(request.target).check_can_decide(caller.actor, request, "reject")
        if request.status != R.IN_REVIEW:
            raise AlreadyDecided(texts.already(request.status.value, "reject"))
        return request
