"""An outbox sink that seals an approval into the clip's provenance (re-signs it naming the approver).

A sink rather than a step of the decision, so the decision commits at once
whatever the signer does, and a signer that fails is retried like any delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.domain_events import DomainEvent, about
from bot.event_kinds import EventKind
from bot.event_payloads import RenderSealed, RenderSealFailed, ReviewApproved
from bot.outbox import Subscription
from bot.ports.media import ApprovalSealer, Clock
from bot.ports.storage import OutboxEntry, RenderQueue, RequestRepo, UnitOfWork

log = logging.getLogger(__name__)
NAME = "seal"


def seal_route(event: DomainEvent) -> str | None:
    return "" if event.kind == EventKind.REVIEW_APPROVED else None


SUBSCRIPTION = Subscription(NAME, seal_route)


class ApprovalSealing:
    name = NAME

    def __init__(
        self,
        *,
        sealer: ApprovalSealer,
        uow: UnitOfWork,
        requests: RequestRepo,
        renders: RenderQueue,
        clock: Clock,
    ) -> None:
        self.sealer = sealer
        self.uow = uow
        self.requests = requests
        self.renders = renders
        self.clock = clock

    @property
    def routes(self) -> Sequence[str] | None:
        return None

    async def deliver(self, entry: OutboxEntry) -> str | None:
        approved = entry.event.payload
        assert isinstance(approved, ReviewApproved)
        render = await self.renders.get_render(approved.render_id)
        request = await self.requests.get_request(entry.event.request_id or "")
        if render is None or request is None or not render.clip_path:
            return None
        brief = await self.requests.get_brief(render.brief_id)
        if brief is None:
            return None
        sealed = await self.sealer.seal(render, brief, request, entry.event.actor)
        await self.renders.set_render_clip(render.id, str(sealed.path), sealed.provenance_digest)
        done = RenderSealed(approver=entry.event.actor, provenance=sealed.provenance_digest)
        async with self.uow.transaction() as tx:
            await tx.record(about(request, done, render_id=render.id, at=self.clock.now()))
        return sealed.provenance_digest

    async def give_up(self, entry: OutboxEntry, error: str) -> None:
        """The decision stands; the audit says the clip could not be sealed."""
        request = await self.requests.get_request(entry.event.request_id or "")
        if request is None:
            return
        log.error("could not seal the approval of %s into its provenance: %s", request.id, error)
        async with self.uow.transaction() as tx:
            await tx.record(
                about(
                    request,
                    RenderSealFailed(reason=error),
                    render_id=entry.event.render_id,
                    at=self.clock.now(),
                )
            )
