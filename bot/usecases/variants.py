"""Variants side by side: the requester or an approver picks one take; the others are archived.

Several takes of one brief are posted with a contact sheet and a Pick #k button per take.
Picking moves that take into review (its own message with the decision buttons) and
archives the other takes (``ready → cancelled`` with ``variant.archived``), so a decision
can only name the take that was picked.
"""

from __future__ import annotations

from collections.abc import Callable

from bot import texts
from bot.access import load_for
from bot.commands import PickVariant
from bot.domain import Render, RenderStatus, ReplyTarget, RequestStatus
from bot.domain_events import about
from bot.errors import AlreadyDecided, UnknownRequest
from bot.event_payloads import VariantArchived, VariantPicked
from bot.policy import Policy
from bot.ports.media import Clock
from bot.ports.storage import RenderQueue, RequestRepo, UnitOfWork
from bot.transitions import move_render

R = RequestStatus
S = RenderStatus


def takes_of(renders: list[Render], brief_id: str) -> list[Render]:
    """The takes (variants) of one brief: whole clips, not a cut's shots or stitches.

    One take per variant number, the newest: a render made again for the same variant (after
    failed checks, say) replaces its take rather than becoming another one.
    """
    latest: dict[int, Render] = {}
    for r in sorted(renders, key=lambda r: r.created_at):
        if r.brief_id == brief_id and r.cut_id is None and r.shot is None:
            latest[r.variant] = r
    return [latest[v] for v in sorted(latest)]


class Variants:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        requests: RequestRepo,
        renders: RenderQueue,
        policy_for: Callable[[ReplyTarget], Policy],
        clock: Clock,
    ) -> None:
        self.uow = uow
        self.requests = requests
        self.renders = renders
        self.policy_for = policy_for
        self.clock = clock

    async def pick(self, command: PickVariant) -> Render:
        caller = command.caller
        request = await load_for(self.requests, caller, command.request_id)
        self.policy_for(request.target).check_can_steer(caller.actor, request, "pick a take of")
        if request.status != R.IN_REVIEW:
            raise AlreadyDecided(texts.already(request.status.value, "pick a take of"))
        picked = await self.renders.get_render(command.render_id or "")
        if picked is None or picked.request_id != request.id or picked.shot is not None:
            raise UnknownRequest(texts.NOT_THIS_REQUEST)
        if picked.status != S.READY:
            raise AlreadyDecided(texts.TAKE_GONE)
        others = [
            r
            for r in takes_of(await self.renders.renders_for(request.id), picked.brief_id)
            if r.id != picked.id and r.status == S.READY
        ]
        now = self.clock.now()
        async with self.uow.transaction() as tx:
            for other in others:
                archived = VariantArchived(
                    provider=other.provider, model=other.model, attempt=other.attempts, picked=picked.id
                )
                await move_render(
                    tx,
                    other,
                    about(request, archived, caller.user_id, render_id=other.id, at=now),
                    owner=None,
                )
            chosen = VariantPicked(
                render_id=picked.id, variant=picked.variant, archived=[r.id for r in others]
            )
            await tx.record(about(request, chosen, caller.user_id, render_id=picked.id, at=now))
        return picked
