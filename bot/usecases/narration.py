"""Retry narration: when the voice could not be made, mix it again under the same clip.

The clip was delivered with captions only and a note (a TTS outage must not cost the clip).
Regenerate would pay the provider again for a picture that is fine, so this use case asks the
media layer to speak the script again under the filed clip, re-sign it, and records one event
that the thread presenter turns into the narrated clip. The request stays in review.
"""

from __future__ import annotations

from collections.abc import Callable

from bot import texts
from bot.access import load_for
from bot.commands import RetryNarrationOf
from bot.domain import Render, ReplyTarget, RequestStatus
from bot.domain_events import about
from bot.errors import AlreadyDecided, MediaError, UserError
from bot.event_kinds import EventKind
from bot.event_payloads import RenderReady, RenderRenarrated
from bot.policy import Policy
from bot.ports.media import Clock, Renarrator
from bot.ports.storage import AuditLog, RenderQueue, RequestRepo, UnitOfWork
from bot.reviewing import render_to_decide


class RetryNarration:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        requests: RequestRepo,
        renders: RenderQueue,
        audit: AuditLog,
        renarrator: Renarrator,
        policy_for: Callable[[ReplyTarget], Policy],
        clock: Clock,
    ) -> None:
        self.uow = uow
        self.requests = requests
        self.renders = renders
        self.audit = audit
        self.renarrator = renarrator
        self.policy_for = policy_for
        self.clock = clock

    async def retry(self, command: RetryNarrationOf) -> Render:
        caller = command.caller
        request = await load_for(self.requests, caller, command.request_id)
        self.policy_for(request.target).check_can_steer(caller.actor, request, "retry the narration of")
        if request.status != RequestStatus.IN_REVIEW:
            raise AlreadyDecided(texts.already(request.status.value, "retry the narration of"))
        render = await render_to_decide(self.renders, request, command.render_id)
        if not await self._narration_failed(request.id, render.id):
            raise UserError(texts.NARRATION_NOT_FAILED)
        brief = await self.requests.get_brief(render.brief_id)
        if brief is None or brief.explainer is None:
            raise UserError(texts.NO_SCRIPT)
        try:
            clip = await self.renarrator.renarrate(render, brief, request)
        except MediaError as exc:
            # The filed clip is untouched and the button stays: the voice can be tried again later.
            raise UserError(texts.NARRATION_FAILED_AGAIN) from exc
        await self.renders.set_render_clip(render.id, str(clip.path), clip.provenance_digest)
        done = RenderRenarrated(
            provenance=clip.provenance_digest,
            qc_findings=list(clip.findings),
            attachments=[str(path) for path in clip.attachments],
            notes=list(clip.notes),
        )
        async with self.uow.transaction() as tx:
            await tx.record(about(request, done, caller.user_id, render_id=render.id, at=self.clock.now()))
        return render

    async def _narration_failed(self, request_id: str, render_id: str) -> bool:
        """Whether the clip's latest delivery said its narration failed (ready, or retried since)."""
        notes: list[str] = []
        for event in await self.audit.audit_events(request_id=request_id):
            if event.render_id != render_id:
                continue
            if event.kind in (EventKind.RENDER_READY, EventKind.RENDER_RENARRATED):
                assert isinstance(event.payload, RenderReady | RenderRenarrated)
                notes = event.payload.notes
        return texts.NARRATION_FAILED in notes
