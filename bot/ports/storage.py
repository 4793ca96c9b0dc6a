"""The persistence ports, one per concern. The core never writes SQL; storage implements these.

A state change is written through a :class:`Tx` (a unit of work): the row, the
domain event for it (audit log) and the outbox entries for the sinks that want
that event commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.cuts import Cut
from bot.domain import Brief, Render, ReplyTarget, RequestStatus, Review, VideoRequest
from bot.domain_events import DomainEvent


@dataclass(frozen=True)
class BudgetLimit:
    """At most ``limit`` USD spent by ``scope`` (user, channel, workspace) ``key`` since ``since``."""

    scope: str
    key: str
    limit: float
    since: datetime


class Tx(Protocol):
    """One transaction. Compare-and-set moves return ``None``/``False`` when someone else won."""

    async def remember_event(self, key: str) -> bool:
        """Record a platform event id; ``False`` if it was seen before (a retry)."""
        ...

    async def remember_events(self, keys: Sequence[str]) -> set[str]:
        """Remember many platform event keys at once; returns those not seen before."""
        ...

    async def add_requests(self, requests: Sequence[VideoRequest]) -> None: ...

    async def add_request(self, request: VideoRequest) -> None: ...

    async def move_request(
        self,
        request_id: str,
        expected: Collection[RequestStatus],
        to: RequestStatus,
        *,
        failure_reason: str | None = None,
    ) -> tuple[VideoRequest, RequestStatus] | None:
        """Compare-and-set the status: the updated request and the state it left, or ``None``."""
        ...

    async def move_requests(
        self, request_ids: Sequence[str], start: RequestStatus, to: RequestStatus
    ) -> dict[str, VideoRequest]:
        """:meth:`move_request` for many requests leaving ``start`` for ``to``: those moved, by id."""
        ...

    async def update_ask(self, request_id: str, raw_text: str, options: dict[str, object]) -> None:
        """Replace the ask's words and options (an edit applies everything the user wrote)."""
        ...

    async def add_brief(self, brief: Brief) -> None: ...

    async def add_renders(self, request: VideoRequest, renders: Sequence[Render]) -> None: ...

    async def add_cut(self, cut: Cut) -> None: ...

    async def release_render(self, render_id: str, at: datetime) -> bool:
        """Make a waiting, unleased, queued render due at ``at``; ``False`` if it is not waiting."""
        ...

    async def save_render(self, render: Render, owner: str | None) -> bool:
        """Write the render's fields; with ``owner``, only while that worker holds its lease."""
        ...

    def hold_saves(self) -> None:
        """From here on, send lease-checked render saves together when the unit of work ends.

        Each such save returns ``True`` at once; if any of them then finds its lease gone, the
        whole unit of work fails (write its parts again one by one to learn which). For a batch
        of independent render steps, where a lost lease is rare.
        """
        ...

    async def claim_work(
        self, owner: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[ClaimedWork]:
        """Lease up to ``limit`` due, unleased (or lease-expired) unfinished renders to ``owner``
        and read their requests and briefs, in this unit of work."""
        ...

    async def add_review(self, review: Review) -> None: ...

    async def spent(self, limit: BudgetLimit, *, lock: bool) -> float:
        """What ``limit``'s key has spent since its start; ``lock`` serialises concurrent checks."""
        ...

    async def record(self, event: DomainEvent) -> None:
        """Append ``event`` to the audit log and queue it for every sink that wants it."""
        ...


class UnitOfWork(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Tx]: ...


@dataclass
class ClaimedWork:
    """A render a worker just leased, with its request and brief (the request as the claim left it)."""

    render: Render
    request: VideoRequest | None
    brief: Brief | None


class RequestRepo(Protocol):
    """Requests and their briefs, as the use cases read them."""

    async def get_request(self, request_id: str) -> VideoRequest | None: ...

    async def get_requests(self, request_ids: Collection[str]) -> dict[str, VideoRequest]:
        """The requests found among ``request_ids``, by id (one read for many)."""
        ...

    async def find_request_by_thread(self, target: ReplyTarget) -> VideoRequest | None: ...

    async def open_requests(self, platform: str, workspace: str, requester: str) -> list[VideoRequest]: ...

    async def requests_in_status(self, status: RequestStatus) -> list[VideoRequest]: ...

    async def set_thread(self, request_id: str, thread: ReplyTarget) -> None:
        """Record the thread a request's parent message opened (a reference, not a state)."""
        ...

    async def set_threads(self, threads: Sequence[tuple[str, ReplyTarget]]) -> None:
        """:meth:`set_thread` for many requests in one write (``(request_id, thread)`` each)."""
        ...

    async def latest_brief(self, request_id: str) -> Brief | None: ...

    async def get_brief(self, brief_id: str) -> Brief | None: ...


class IntakeQueue(Protocol):
    """Asks taken in but not yet turned into a brief, leased so a dead process's asks resume."""

    async def lease_intake(self, request_id: str, owner: str, until: datetime) -> bool:
        """Take (or renew) the intake lease of one request; ``False`` if another process holds it."""
        ...

    async def release_intake(self, request_id: str, owner: str) -> None: ...

    async def stale_intake(
        self, now: datetime, states: Collection[RequestStatus], older_than: datetime, limit: int
    ) -> list[VideoRequest]:
        """Requests in ``states`` not touched since ``older_than`` whose intake lease is free or expired."""
        ...


class RenderQueue(Protocol):
    """The render queue: leased claims shared by every worker replica."""

    async def get_render(self, render_id: str) -> Render | None: ...

    async def renders_for(self, request_id: str) -> list[Render]: ...

    async def renew_lease(self, render_id: str, owner: str, until: datetime) -> bool: ...

    async def release_lease(self, render_id: str, owner: str) -> None:
        """Give a render back at once (a graceful stop), so another worker need not wait for expiry."""
        ...

    async def reap_expired_leases(self, now: datetime) -> list[str]: ...

    async def queue_position(self, render_id: str) -> int: ...

    async def set_render_clip(self, render_id: str, clip_path: str, provenance_digest: str | None) -> None:
        """Point a finished render at a new file (e.g. re-signed after approval)."""
        ...


@dataclass(frozen=True)
class OutboxEntry:
    """One event for one sink, leased like a render, delivered once per key."""

    id: str
    key: str
    sink: str
    route: str
    event: DomainEvent
    attempts: int = 0


class OutboxStore(Protocol):
    async def claim_entries(
        self,
        owner: str,
        now: datetime,
        lease_seconds: float,
        limit: int,
        wanted: Sequence[tuple[str, Sequence[str] | None]],
    ) -> list[OutboxEntry]:
        """Lease due entries of the wanted ``(sink, routes)`` pairs (``None``: any route).

        Entries of one request and sink go out in the order they were written: an entry is
        due only when no earlier entry of the same request and sink is still waiting.
        """
        ...

    async def renew(self, entry_id: str, owner: str, until: datetime) -> bool:
        """Extend the lease of an entry still being delivered; ``False`` if another process has it."""
        ...

    async def delivered(self, entry_id: str, owner: str, ref: str | None) -> None: ...

    async def delivered_many(self, done: Sequence[tuple[str, str | None]], owner: str) -> None:
        """Record several deliveries at once: ``(entry id, ref)``, each only while ``owner`` holds it."""
        ...

    async def delivery_failed(
        self, entry_id: str, owner: str, error: str, retry_at: datetime, give_up: bool
    ) -> None: ...


class MessageRefs(Protocol):
    """The messages a sink posted for a request, by role ("status", "brief:v2", "clip:rnd_…")."""

    async def remember_ref(self, request_id: str, role: str, ref: str) -> None: ...

    async def message_ref(self, request_id: str, role: str) -> str | None: ...


class UsageLedger(Protocol):
    async def usage(self, scope: str, key: str, since: datetime) -> float: ...


class AuditLog(Protocol):
    async def audit_events(
        self, since: datetime | None = None, request_id: str | None = None
    ) -> list[DomainEvent]: ...


@dataclass(frozen=True)
class RequestFilter:
    """What a list of requests is narrowed to; the workspace is always part of it."""

    platform: str
    workspace: str
    statuses: tuple[RequestStatus, ...] = ()
    requester: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class Page:
    items: list[VideoRequest]
    next_cursor: str | None


class ReadModels(Protocol):
    async def list_requests(self, where: RequestFilter, *, limit: int, cursor: str | None) -> Page:
        """Newest first; ``cursor`` continues after the last item of the previous page."""
        ...


class CutRepo(Protocol):
    """The cuts of multi-shot requests, by id, by the render that stitches them, and the latest."""

    async def get_cut(self, cut_id: str) -> Cut | None: ...

    async def latest_cut(self, request_id: str) -> Cut | None: ...

    async def cuts_for(self, request_id: str) -> list[Cut]: ...
