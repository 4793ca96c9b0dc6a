"""The thread presenter: an outbox sink that shows every event in the request's thread.

Whatever way a decision was made (a button, the console, the REST API, the
review page), its event reaches this sink, so the thread always says it: the
clip message loses its buttons and says "✅ approved by …", the brief loses its
Render button once rendering starts, the status line moves as the render does.
It remembers the messages it posted by role (``status``, ``brief:<id>``,
``clip:<render id>``, ``appeal``) so later events update them in place.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bot import texts, views
from bot.chat import ChatRouter
from bot.coalesce import Coalescer
from bot.cuts import Cut
from bot.domain import Render, RenderStatus, ReplyTarget, RequestStatus, VideoRequest
from bot.domain_events import DomainEvent
from bot.errors import DeliveryRefused, UserError
from bot.event_kinds import EventKind
from bot.event_payloads import (
    AppealAllowed,
    AppealDenied,
    BriefCreated,
    FinalQueued,
    RenderFailover,
    RenderQcRegenerate,
    RenderReady,
    RenderRenarrated,
    RequestAppealed,
    RequestBlocked,
    RequestCancelled,
    RequestClarifying,
    RequestFailed,
    RequestQueued,
    RequestRevised,
    ReviewDecision,
    ReviewExpired,
    ShotRerender,
    VariantPicked,
)
from bot.lifecycle import TERMINAL_RENDER_STATES
from bot.outbox import Subscription
from bot.policy import Policy
from bot.ports.media import VariantSheets
from bot.ports.storage import CutRepo, MessageRefs, OutboxEntry, RenderQueue, RequestRepo
from bot.thread_posts import ThreadPosts
from bot.usecases.variants import takes_of

log = logging.getLogger(__name__)
K = EventKind
R = RequestStatus
NAME = "thread"

# Render steps that move the status line.
_STATUS_KINDS = frozenset(
    {K.RENDER_SUBMITTED, K.RENDER_RUNNING, K.RENDER_PROGRESS, K.RENDER_COMPLETED, K.RENDER_DOWNLOADED}
)
SHOWN = frozenset(
    {
        K.REQUEST_REFINING,
        K.REQUEST_REVISED,
        K.REQUEST_CLARIFYING,
        K.BRIEF_CREATED,
        K.REQUEST_QUEUED,
        K.RENDER_FAILOVER,
        K.RENDER_QC_REGENERATE,
        K.RENDER_READY,
        K.REQUEST_FAILED,
        K.REVIEW_APPROVED,
        K.REVIEW_REJECTED,
        K.REVIEW_CHANGES_REQUESTED,
        K.REVIEW_EXPIRED,
        K.REQUEST_CANCELLED,
        K.REQUEST_BLOCKED,
        K.REQUEST_APPEALED,
        K.APPEAL_ALLOWED,
        K.APPEAL_DENIED,
        K.SHOT_RERENDER,
        K.FINAL_QUEUED,
        K.VARIANT_PICKED,
        K.RENDER_RENARRATED,
        *_STATUS_KINDS,
    }
)


def thread_route(event: DomainEvent) -> str | None:
    """The presenter wants events it shows, on the request's chat platform.

    A request made through the REST API without a channel has no thread: nothing to show.
    """
    wanted = event.kind in SHOWN and event.platform and event.channel and event.request_id
    return event.platform if wanted else None


SUBSCRIPTION = Subscription(NAME, thread_route)

Unreachable = Callable[[str, str], Awaitable[None]]


class ThreadPresenter:
    """Turns events into the messages of the thread (see :mod:`bot.views` for how they look)."""

    name = NAME

    def __init__(
        self,
        *,
        chat: ChatRouter,
        requests: RequestRepo,
        renders: RenderQueue,
        refs: MessageRefs,
        policy_for: Callable[[ReplyTarget], Policy],
        unreachable: Unreachable | None = None,
        review_page: bool = False,
        cuts: CutRepo | None = None,
        sheets: VariantSheets | None = None,
    ) -> None:
        self.cuts = cuts
        self.sheets = sheets
        self.posts = ThreadPosts(chat=chat, requests=requests, refs=refs)
        self.chat = chat
        self.requests = requests
        self.renders = renders
        self.refs = refs
        self.policy_for = policy_for
        self.unreachable = unreachable
        self.review_page = review_page  # clip messages offer "Open review page"
        # Deliveries that start together read their requests together: a burst of 200 opened
        # threads is a few reads, not 200 round trips queued for pooled connections.
        self._reads: Coalescer[str, VideoRequest | None] = Coalescer(self._read_requests, most=200)

    @property
    def routes(self) -> Sequence[str] | None:
        return self.chat.platforms

    async def deliver(self, entry: OutboxEntry) -> str | None:
        event = entry.event
        assert event.request_id is not None
        request = await self._reads.submit(event.request_id)
        if request is None:
            return None
        try:
            return await self._show(request, event, entry.key)
        except UserError as exc:  # the platform refused for a reason no retry changes
            raise DeliveryRefused(exc.user_message) from exc
        except PermissionError as exc:
            raise DeliveryRefused(str(exc)) from exc

    async def settle(self) -> None:
        """Wait until every thread opened so far is recorded (shutdown: before the store closes)."""
        await self.posts.settle()

    async def give_up(self, entry: OutboxEntry, error: str) -> None:
        """A thread that cannot be reached fails its request (if it can still fail) and says so."""
        if self.unreachable is not None and entry.event.request_id:
            await self.unreachable(entry.event.request_id, error)

    async def _read_requests(self, request_ids: Sequence[str]) -> list[VideoRequest | None]:
        found = await self.requests.get_requests(set(request_ids))
        # Each delivery gets its own copy: opening a thread updates the request it holds.
        return [copy.copy(found[i]) if i in found else None for i in request_ids]

    # ------------------------------------------------------------------ by kind

    async def _show(self, request: VideoRequest, event: DomainEvent, key: str) -> str | None:
        p = event.payload
        kind = event.kind
        if kind in _STATUS_KINDS:
            return await self._status(request, event.render_id)
        if isinstance(p, BriefCreated):
            return await self._brief(request, p, key)
        if isinstance(p, RequestQueued):
            return await self._queued(request, event, p, key)
        if isinstance(p, RequestRevised):
            await self._strip_brief(request, event, p.previous_brief_id)
            return None
        if isinstance(p, RequestCancelled):
            await self._strip_brief(request, event, None)
            return await self.posts.post(request, views.cancelled_message(p.by_name, event.actor), key)
        if isinstance(p, RequestClarifying):
            return await self.posts.post(request, views.clarifying_message(p.question), key)
        if isinstance(p, RenderFailover):
            return await self.posts.post(
                request, views.notice(texts.failover_note(p.from_provider, p.reason, p.provider)), key
            )
        if isinstance(p, ShotRerender):
            return await self._shot_rerender(request, p, key)
        if isinstance(p, VariantPicked):
            return await self._picked(request, event, p, key)
        if isinstance(p, FinalQueued):
            note = texts.final_rendering(
                p.provider, p.model, texts.money(p.cost_estimate), texts.money(p.draft_cost)
            )
            await self.posts.post(request, views.notice(note), f"{key}:note")
            return await self._new_status(request, p.render_ids[0], key)
        if isinstance(p, RenderQcRegenerate):
            return await self.posts.post(request, views.notice(texts.qc_regenerating(p.findings)), key)
        if isinstance(p, RenderReady):
            return await self._clip(request, event.render_id, key, p)
        if isinstance(p, RenderRenarrated):
            # The voiceless clip message gives way to the narrated clip, posted with its captions.
            role = f"clip:{event.render_id}"
            await self.posts.replace(request, role, views.notice(texts.NARRATED_AGAIN), post=False)
            return await self._clip(request, event.render_id, key, p)
        if isinstance(p, RequestFailed):
            return await self._failed(request, p, key)
        if isinstance(p, ReviewDecision):
            return await self._decided(request, event, p)
        if isinstance(p, ReviewExpired):
            return await self.posts.post(request, views.expired_message(p.hours, request), key)
        if isinstance(p, RequestBlocked):
            return await self._blocked(request, p, key)
        if isinstance(p, RequestAppealed):
            return await self._appealed(request, event, p, key)
        if isinstance(p, AppealAllowed):
            await self.posts.replace(request, "appeal", views.appeal_allowed(request, p.by_name, event.actor))
            await self.posts.thread(request, open_it=True)
            return None
        if isinstance(p, AppealDenied):
            await self.posts.replace(request, "appeal", views.appeal_denied(request, p.by_name, event.actor))
            await self.posts.chat(request).notify(
                request.target, request.requester, views.appeal_denied_notice(p.by_name, event.actor)
            )
            return None
        if kind == K.REQUEST_REFINING:
            await self.posts.thread(request, open_it=True)
        return None

    async def _brief(self, request: VideoRequest, p: BriefCreated, key: str) -> str | None:
        if p.fallback:
            await self.posts.post(request, views.notice(texts.LLM_FALLBACK), f"{key}:note")
        if p.offline_by_setup:
            await self.posts.post(request, views.notice(texts.NO_LLM_CONFIGURED), f"{key}:setup")
        brief = await self.requests.get_brief(p.brief_id)
        assert brief is not None and brief.plan is not None
        message = views.brief_message(brief, brief.plan, request, awaiting=p.awaiting)
        return await self.posts.post_as(request, f"brief:{brief.id}", message, key)

    async def _queued(
        self, request: VideoRequest, event: DomainEvent, p: RequestQueued, key: str
    ) -> str | None:
        await self._strip_brief(request, event, p.brief_id)
        render = await self.renders.get_render(p.render_ids[0])
        assert render is not None
        position = await self.renders.queue_position(render.id)
        return await self.posts.post_as(
            request, "status", views.status_message(render, position=position), key
        )

    async def _strip_brief(self, request: VideoRequest, event: DomainEvent, brief_id: str | None) -> None:
        """Take the Render button off a brief that was waiting for it."""
        if event.from_status != R.AWAITING_CONFIRMATION.value:
            return
        brief = (
            await self.requests.get_brief(brief_id)
            if brief_id
            else await self.requests.latest_brief(request.id)
        )
        if brief is None or brief.plan is None:
            return
        await self.posts.replace(
            request,
            f"brief:{brief.id}",
            views.brief_message(brief, brief.plan, request, awaiting=False),
            post=False,
        )

    async def _status(self, request: VideoRequest, render_id: str | None, note: str = "") -> str | None:
        """Update the one status line in place; the newest state of the render, whatever event woke us."""
        render = await self.renders.get_render(render_id) if render_id else None
        if render is None:
            return None
        await self.posts.replace(request, "status", views.status_message(render, note=note), post=False)
        return None

    async def _clip(
        self, request: VideoRequest, render_id: str | None, key: str, ready: RenderReady | RenderRenarrated
    ) -> str | None:
        render = await self.renders.get_render(render_id or "")
        assert render is not None and render.clip_path is not None
        brief = await self.requests.get_brief(render.brief_id)
        assert brief is not None
        disclosure = self.policy_for(request.target).disclosure
        target = await self.posts.thread(request)
        if target is None:
            return None
        message = views.clip_message(
            render, brief, request, disclosure, ready.notes, review_page=self.review_page
        )
        takes = takes_of(await self.renders.renders_for(request.id), render.brief_id)
        if len(takes) > 1 and render.cut_id is None:
            message = views.take_message(render, brief, len(takes))  # decided after a pick
        cut = await self._cut(render.cut_id)
        if cut is not None:
            shots = [r for r in await self.renders.renders_for(request.id) if r.cut_id is not None]
            message = views.cut_clip_message(render, brief, request, cut, shots, disclosure, ready.notes)
        attachments = [Path(name) for name in ready.attachments]
        chat = self.posts.chat(request)
        if attachments:  # captions go with the clip; an adapter without files still gets the clip
            ref = await chat.upload_clip(
                target, Path(render.clip_path), message, key=key, attachments=attachments
            )
        else:
            ref = await chat.upload_clip(target, Path(render.clip_path), message, key=key)
        await self.refs.remember_ref(request.id, f"clip:{render.id}", ref)
        try:
            await self._status(request, render.id, note="review below")
        except Exception as exc:  # the clip is out; a stale status line is cosmetic
            log.warning("could not update the status of %s: %s", request.id, exc)
        if len(takes) > 1 and render.cut_id is None:
            await self._sheet(request, takes, key)
        return ref

    async def _sheet(self, request: VideoRequest, takes: list[Render], key: str) -> None:
        """Once every take has ended: one contact sheet of the ready ones, with a Pick button each."""
        if any(t.status not in TERMINAL_RENDER_STATES for t in takes) or self.sheets is None:
            return
        ready = [t for t in takes if t.status == RenderStatus.READY and t.clip_path]
        if len(ready) < 2:
            return
        role = f"variants:{ready[0].brief_id}"
        if await self.refs.message_ref(request.id, role) is not None:
            return  # posted already (a redelivery of the last take's event)
        sheet = await self.sheets.sheet(
            f"{request.id}-{ready[0].brief_id}", [Path(t.clip_path or "") for t in ready]
        )
        ref = await self.posts.chat(request).upload_clip(
            request.target, sheet, views.variants_message(request, ready), key=f"{key}:sheet"
        )
        await self.refs.remember_ref(request.id, role, ref)

    async def _picked(
        self, request: VideoRequest, event: DomainEvent, p: VariantPicked, key: str
    ) -> str | None:
        """The picked take goes to review: its own message with the decision buttons."""
        picked = await self.renders.get_render(p.render_id)
        brief = await self.requests.get_brief(picked.brief_id) if picked else None
        if picked is None or brief is None or picked.clip_path is None:
            return None
        takes = takes_of(await self.renders.renders_for(request.id), picked.brief_id)
        who = event.actor
        await self.posts.replace(
            request, f"variants:{picked.brief_id}", views.picked_message(request, takes, picked, who)
        )
        disclosure = self.policy_for(request.target).disclosure
        message = views.clip_message(picked, brief, request, disclosure)
        ref = await self.posts.chat(request).upload_clip(
            request.target, Path(picked.clip_path), message, key=key
        )
        await self.refs.remember_ref(request.id, f"clip:{picked.id}", ref)
        return ref

    async def _failed(self, request: VideoRequest, p: RequestFailed, key: str) -> str | None:
        message = views.failed_message(request, p.reason)
        if request.target.thread is None:
            await self.posts.chat(request).notify(request.target, request.requester, message)
            return None
        return await self.posts.post(request, message, key)

    async def _decided(self, request: VideoRequest, event: DomainEvent, p: ReviewDecision) -> str | None:
        render = await self.renders.get_render(p.render_id)
        brief = await self.requests.get_brief(render.brief_id) if render else None
        if render is None or brief is None:
            return None
        verb = {K.REVIEW_APPROVED: "approved", K.REVIEW_REJECTED: "rejected"}.get(
            event.kind, "changes requested"
        )
        cut = await self._cut(render.cut_id)
        decided = views.decided_message(
            render,
            brief,
            verb,
            p.reviewer_name,
            event.at,
            p.reason,
            reviewer=event.actor,
            cut_version=cut.version if cut else None,
        )
        return await self.posts.replace(request, f"clip:{render.id}", decided)

    async def _blocked(self, request: VideoRequest, p: RequestBlocked, key: str) -> str | None:
        message = views.blocked_message(p.reason, request.id)
        if request.target.thread is None:
            # Blocked before a thread was opened: only the requester hears of it.
            await self.posts.chat(request).notify(request.target, request.requester, message)
            return None
        return await self.posts.post(request, message, key)

    async def _appealed(self, request: VideoRequest, event: DomainEvent, p: RequestAppealed, key: str) -> str:
        policy = self.policy_for(request.target)
        asked = (event.actor, *sorted(policy.approvers))
        appeal = views.appeal_message(request, p.by_name, policy.approver_names(), p.reason, mentions=asked)
        ref = await self.posts.chat(request).post(request.target, appeal, key=key)
        await self.refs.remember_ref(request.id, "appeal", ref)
        return ref

    async def _shot_rerender(self, request: VideoRequest, p: ShotRerender, key: str) -> str | None:
        """Say which shot renders again, and move the status line to it."""
        note = texts.shot_rerendering(p.shot, p.version, texts.money(p.cost_estimate))
        await self.posts.post(request, views.notice(note), f"{key}:note")
        return await self._new_status(request, p.render_ids[0], key)

    async def _new_status(self, request: VideoRequest, render_id: str, key: str) -> str | None:
        """A fresh status line for renders queued from review (the old one said "review below")."""
        render = await self.renders.get_render(render_id)
        if render is None:
            return None
        return await self.posts.post_as(request, "status", views.status_message(render), key)

    async def _cut(self, cut_id: str | None) -> Cut | None:
        return await self.cuts.get_cut(cut_id) if cut_id and self.cuts is not None else None
