"""Review decisions: approve or reject one render version, and seal the approval into its provenance."""

from __future__ import annotations

import logging

from bot.domain import AuditEvent, Brief, Decision, Render, RenderStatus, RequestStatus, Review, VideoRequest
from bot.errors import AlreadyDecided, InvalidOptions, UnknownRequest
from bot.events import Actor
from bot.service import RequestService, already, audit_for

log = logging.getLogger(__name__)
R = RequestStatus


class Reviews:
    """Decisions on clips; only approvers make them, and each names one render version."""

    def __init__(self, service: RequestService) -> None:
        self.service = service
        self.store = service.store

    async def decide(
        self, request_id: str, render_id: str | None, actor: Actor, decision: Decision, reason: str = ""
    ) -> tuple[VideoRequest, Render, Brief]:
        request = await self.service.load(request_id)
        verb = "approve" if decision == Decision.APPROVED else "reject"
        self.service.policy_for(request.target).check_can_decide(actor, request, verb)
        if decision == Decision.REJECTED and not reason.strip():
            raise InvalidOptions("A rejection needs a reason, so the requester knows what to change.")
        render = await self._render_to_decide(request, render_id)
        to = R.APPROVED if decision == Decision.APPROVED else R.REJECTED
        review = Review(request.id, render.id, decision, actor.user_id, actor.mention, reason.strip())
        moved = await self.store.move_request(
            request.id,
            [R.IN_REVIEW],
            to,
            review=review,
            audit=AuditEvent(
                kind=f"review.{decision.value}",
                actor=actor.user_id,
                request_id=request.id,
                render_id=render.id,
                platform=request.target.platform,
                workspace=request.target.workspace,
                channel=request.target.channel,
                data={
                    "reason": reason.strip(),
                    "brief_version": render.brief_version,
                    "reviewer_name": actor.mention,
                },
            ),
        )
        if moved is None:
            latest = await self.service.load(request_id)
            raise AlreadyDecided(already(latest, verb))
        brief = await self.store.get_brief(render.brief_id)
        assert brief is not None
        if decision == Decision.APPROVED:
            await self._seal(moved, render, brief, actor)
        return moved, render, brief

    async def _seal(self, request: VideoRequest, render: Render, brief: Brief, actor: Actor) -> None:
        """Re-sign the approved clip naming the approver; the decision stands even if this fails."""
        if self.service.sealer is None or not render.clip_path:
            return
        try:
            sealed = await self.service.sealer.seal(render, brief, request, actor.user_id)
        except Exception as exc:
            log.error("could not seal the approval of %s into its provenance: %s", render.id, exc)
            await self.store.audit(
                audit_for("render.seal_failed", "clipdesk", request, render=render.id, reason=str(exc))
            )
            return
        await self.store.set_render_clip(render.id, str(sealed.path), sealed.provenance_digest)
        render.clip_path, render.provenance_digest = str(sealed.path), sealed.provenance_digest
        await self.store.audit(
            audit_for(
                "render.sealed",
                "clipdesk",
                request,
                render=render.id,
                approver=actor.user_id,
                provenance=sealed.provenance_digest,
            )
        )

    async def _render_to_decide(self, request: VideoRequest, render_id: str | None) -> Render:
        if request.status != R.IN_REVIEW:
            raise AlreadyDecided(already(request, "decide on"))
        latest = await self.service.latest_ready(request)
        if latest is None:
            raise AlreadyDecided("There is no finished clip to decide on yet.")
        if render_id is None:
            return latest
        render = await self.store.get_render(render_id)
        if render is None or render.request_id != request.id or render.status != RenderStatus.READY:
            raise UnknownRequest("That clip is not part of this request.")
        if render.brief_version != latest.brief_version:
            raise AlreadyDecided(
                f"This is an older version (v{render.brief_version}); review v{latest.brief_version} below."
            )
        return render
