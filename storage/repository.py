"""The SQL implementation of :class:`bot.ports.Store`.

Concurrency rules, because several worker replicas share one database:
- Every status change is a compare-and-set (``UPDATE … WHERE status IN (…)``);
  the caller learns from the row count whether it won.
- Renders and outbox entries are leased. On PostgreSQL the candidates are
  picked with ``FOR UPDATE SKIP LOCKED`` so replicas never queue behind each
  other; on SQLite the write lock of ``BEGIN IMMEDIATE`` serialises claims.
  Both then take the lease with a compare-and-set.
- Budget checks lock the budget keys (advisory locks on PostgreSQL) before
  summing, so two requests at once cannot both spend the last dollar.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from bot.domain import (
    AuditEvent,
    Brief,
    Delivery,
    Render,
    RenderStatus,
    ReplyTarget,
    RequestStatus,
    Review,
    VideoRequest,
    utcnow,
)
from bot.errors import OverBudget
from bot.lifecycle import OPEN_REQUEST_STATES, TERMINAL_RENDER_STATES, advance_request
from bot.ports import BudgetLimit
from storage import mapping
from storage.leases import changed, take_leases
from storage.outbox import OutboxStore, delivery_row
from storage.tables import (
    AuditRow,
    BriefRow,
    RenderRow,
    RequestRow,
    ReviewRow,
    SeenEventRow,
)

_UNFINISHED = [s.value for s in RenderStatus if s not in TERMINAL_RENDER_STATES]
_SCOPE_COLUMN = {
    "user": col(RenderRow.user_key),
    "channel": col(RenderRow.channel_key),
    "workspace": col(RenderRow.workspace_key),
}


class SqlStore(OutboxStore):
    """The repository the core calls; one instance per process, safe to share between tasks."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._session = async_sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)

    async def close(self) -> None:
        await self.engine.dispose()

    # ------------------------------------------------------------------ events

    async def remember_event(self, key: str) -> bool:
        try:
            async with self._session() as s, s.begin():
                s.add(SeenEventRow(key=key, seen_at=utcnow()))
            return True
        except IntegrityError:
            return False

    # ------------------------------------------------------------------ requests

    async def add_request(
        self, request: VideoRequest, *audits: AuditEvent, event_key: str | None = None
    ) -> bool:
        try:
            async with self._session() as s, s.begin():
                if event_key is not None:
                    s.add(SeenEventRow(key=event_key, seen_at=utcnow()))
                    await s.flush()  # a repeated event fails here, before anything else is written
                s.add(mapping.request_row(request))
                await s.flush()
                for audit in audits:
                    s.add(mapping.audit_row(audit))
            return True
        except IntegrityError:
            if event_key is None:
                raise
            return False

    async def get_request(self, request_id: str) -> VideoRequest | None:
        async with self._session() as s:
            row = await s.get(RequestRow, request_id)
            return mapping.to_request(row) if row else None

    async def find_request_by_thread(self, target: ReplyTarget) -> VideoRequest | None:
        if target.thread is None:
            return None
        async with self._session() as s:
            row = (
                await s.execute(
                    select(RequestRow)
                    .where(
                        col(RequestRow.platform) == target.platform,
                        col(RequestRow.channel) == target.channel,
                        col(RequestRow.thread) == target.thread,
                    )
                    .order_by(col(RequestRow.created_at).desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            return mapping.to_request(row) if row else None

    async def open_requests(self, platform: str, workspace: str, requester: str) -> list[VideoRequest]:
        async with self._session() as s:
            rows = (
                (
                    await s.execute(
                        select(RequestRow)
                        .where(
                            col(RequestRow.platform) == platform,
                            col(RequestRow.workspace) == workspace,
                            col(RequestRow.requester) == requester,
                            col(RequestRow.status).in_([st.value for st in OPEN_REQUEST_STATES]),
                        )
                        .order_by(col(RequestRow.created_at))
                    )
                )
                .scalars()
                .all()
            )
            return [mapping.to_request(r) for r in rows]

    async def requests_in_status(self, status: RequestStatus) -> list[VideoRequest]:
        async with self._session() as s:
            rows = (
                (await s.execute(select(RequestRow).where(col(RequestRow.status) == status.value)))
                .scalars()
                .all()
            )
            return [mapping.to_request(r) for r in rows]

    async def set_request_refs(
        self,
        request_id: str,
        *,
        target: ReplyTarget | None = None,
        status_message: str | None = None,
        brief_message: str | None = None,
    ) -> None:
        values: dict[str, object] = {"updated_at": utcnow()}
        if target is not None:
            values.update(
                platform=target.platform,
                workspace=target.workspace,
                channel=target.channel,
                thread=target.thread,
            )
        if status_message is not None:
            values["status_message"] = status_message
        if brief_message is not None:
            values["brief_message"] = brief_message
        async with self._session() as s, s.begin():
            await s.execute(update(RequestRow).where(col(RequestRow.id) == request_id).values(**values))

    async def move_request(
        self,
        request_id: str,
        expected: Sequence[RequestStatus],
        to: RequestStatus,
        *,
        audit: AuditEvent,
        failure_reason: str | None = None,
        renders: Sequence[Render] = (),
        review: Review | None = None,
        deliveries: Sequence[Delivery] = (),
        budgets: Sequence[BudgetLimit] = (),
    ) -> VideoRequest | None:
        for current in expected:
            advance_request(current, to)  # refuse illegal moves before touching the database
        async with self._session() as s, s.begin():
            values: dict[str, object] = {"status": to.value, "updated_at": utcnow()}
            if failure_reason is not None:
                values["failure_reason"] = failure_reason
            result = await s.execute(
                update(RequestRow)
                .where(
                    col(RequestRow.id) == request_id, col(RequestRow.status).in_([e.value for e in expected])
                )
                .values(**values)
            )
            if changed(result) != 1:
                return None
            row = await s.get(RequestRow, request_id)
            assert row is not None
            await s.refresh(row)
            request = mapping.to_request(row)
            if renders:
                await self._check_budgets(s, budgets, sum(r.cost_estimate for r in renders))
                for render in renders:
                    s.add(mapping.render_row(render, request))
            await s.flush()
            if review is not None:
                s.add(
                    ReviewRow(
                        id=review.id,
                        request_id=review.request_id,
                        render_id=review.render_id,
                        decision=review.decision.value,
                        reviewer=review.reviewer,
                        reviewer_name=review.reviewer_name,
                        reason=review.reason,
                        created_at=review.created_at,
                    )
                )
            for delivery in deliveries:
                s.add(delivery_row(delivery))
            s.add(mapping.audit_row(audit))
            return request

    async def _check_budgets(self, s: AsyncSession, budgets: Sequence[BudgetLimit], adding: float) -> None:
        if not budgets:
            return
        if self._postgres:
            for limit in sorted(budgets, key=lambda b: b.key):
                lock = int.from_bytes(
                    hashlib.sha256(f"{limit.scope}:{limit.key}".encode()).digest()[:8], "big", signed=True
                )
                await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})
        for limit in budgets:
            spent = await self._spent(s, limit.scope, limit.key, limit.since)
            if spent + adding > limit.limit + 1e-9:
                left = max(limit.limit - spent, 0.0)
                raise OverBudget(
                    f"This render would cost ${adding:,.2f}, but the {limit.scope} budget has "
                    f"${left:,.2f} left this month (of ${limit.limit:,.2f}). Nothing was queued."
                )

    async def _spent(self, s: AsyncSession, scope: str, key: str, since: datetime) -> float:
        column = _SCOPE_COLUMN[scope]
        total = (
            await s.execute(
                select(
                    func.coalesce(
                        func.sum(func.coalesce(col(RenderRow.cost_actual), col(RenderRow.cost_estimate))), 0.0
                    )
                ).where(column == key, col(RenderRow.created_at) >= since)
            )
        ).scalar_one()
        return float(total)

    async def usage(self, scope: str, key: str, since: datetime) -> float:
        async with self._session() as s:
            return await self._spent(s, scope, key, since)

    # ------------------------------------------------------------------ briefs

    async def add_brief(self, brief: Brief, audit: AuditEvent) -> None:
        async with self._session() as s, s.begin():
            s.add(mapping.brief_row(brief))
            s.add(mapping.audit_row(audit))

    async def latest_brief(self, request_id: str) -> Brief | None:
        async with self._session() as s:
            row = (
                await s.execute(
                    select(BriefRow)
                    .where(col(BriefRow.request_id) == request_id)
                    .order_by(col(BriefRow.version).desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            return mapping.to_brief(row) if row else None

    async def get_brief(self, brief_id: str) -> Brief | None:
        async with self._session() as s:
            row = await s.get(BriefRow, brief_id)
            return mapping.to_brief(row) if row else None

    # ------------------------------------------------------------------ renders

    async def get_render(self, render_id: str) -> Render | None:
        async with self._session() as s:
            row = await s.get(RenderRow, render_id)
            return mapping.to_render(row) if row else None

    async def renders_for(self, request_id: str) -> list[Render]:
        async with self._session() as s:
            rows = (
                (
                    await s.execute(
                        select(RenderRow)
                        .where(col(RenderRow.request_id) == request_id)
                        .order_by(col(RenderRow.created_at), col(RenderRow.variant))
                    )
                )
                .scalars()
                .all()
            )
            return [mapping.to_render(r) for r in rows]

    def _claimable(self, now: datetime) -> ColumnElement[bool]:
        return and_(
            col(RenderRow.status).in_(_UNFINISHED),
            or_(col(RenderRow.lease_owner).is_(None), col(RenderRow.lease_expires_at) < now),
            or_(col(RenderRow.next_attempt_at).is_(None), col(RenderRow.next_attempt_at) <= now),
        )

    async def claim_renders(
        self, owner: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[Render]:
        async with self._session() as s, s.begin():
            rows = await take_leases(
                s,
                RenderRow,
                self._claimable(now),
                (col(RenderRow.created_at), col(RenderRow.variant)),
                owner=owner,
                until=now + timedelta(seconds=lease_seconds),
                limit=limit,
                skip_locked=self._postgres,
                extra={"updated_at": now},
            )
            return [mapping.to_render(r) for r in rows]

    async def renew_lease(self, render_id: str, owner: str, until: datetime) -> bool:
        async with self._session() as s, s.begin():
            result = await s.execute(
                update(RenderRow)
                .where(
                    col(RenderRow.id) == render_id,
                    col(RenderRow.lease_owner) == owner,
                    col(RenderRow.status).in_(_UNFINISHED),
                )
                .values(lease_expires_at=until)
            )
            return bool(changed(result) == 1)

    async def save_render(
        self,
        render: Render,
        owner: str,
        *,
        audit: AuditEvent | None = None,
        request_to: RequestStatus | None = None,
        request_from: Sequence[RequestStatus] = (),
        deliveries: Sequence[Delivery] = (),
        new_renders: Sequence[Render] = (),
    ) -> bool:
        async with self._session() as s, s.begin():
            row = (
                await s.execute(
                    select(RenderRow).where(
                        col(RenderRow.id) == render.id, col(RenderRow.lease_owner) == owner
                    )
                )
            ).scalar_one_or_none()
            if row is None:
                return False
            lease_owner, lease_until = row.lease_owner, row.lease_expires_at
            mapping.apply_render(row, render)
            if render.lease_owner is not None or render.status.value not in _UNFINISHED:
                # Keep the lease the heartbeat renewed unless the worker is releasing it.
                row.lease_owner, row.lease_expires_at = lease_owner, lease_until
            if render.status.value not in _UNFINISHED:
                row.lease_owner, row.lease_expires_at = None, None
            if request_to is not None and request_from:
                for current in request_from:
                    advance_request(current, request_to)
                await s.execute(
                    update(RequestRow)
                    .where(
                        col(RequestRow.id) == render.request_id,
                        col(RequestRow.status).in_([r.value for r in request_from]),
                    )
                    .values(
                        status=request_to.value,
                        updated_at=utcnow(),
                        failure_reason=render.failure_reason
                        if request_to == RequestStatus.FAILED
                        else col(RequestRow.failure_reason),
                    )
                )
            if new_renders:
                parent = await s.get(RequestRow, render.request_id)
                assert parent is not None
                request = mapping.to_request(parent)
                for extra in new_renders:
                    s.add(mapping.render_row(extra, request))
            for delivery in deliveries:
                s.add(delivery_row(delivery))
            if audit is not None:
                s.add(mapping.audit_row(audit))
            return True

    async def set_render_clip(self, render_id: str, clip_path: str, provenance_digest: str | None) -> None:
        async with self._session() as s, s.begin():
            await s.execute(
                update(RenderRow)
                .where(col(RenderRow.id) == render_id)
                .values(clip_path=clip_path, provenance_digest=provenance_digest, updated_at=utcnow())
            )

    async def reap_expired_leases(self, now: datetime) -> list[str]:
        async with self._session() as s, s.begin():
            rows = (
                (
                    await s.execute(
                        select(RenderRow).where(
                            col(RenderRow.status).in_(_UNFINISHED),
                            col(RenderRow.lease_owner).is_not(None),
                            col(RenderRow.lease_expires_at) < now,
                        )
                    )
                )
                .scalars()
                .all()
            )
            reaped: list[str] = []
            for row in rows:
                result = await s.execute(
                    update(RenderRow)
                    .where(
                        col(RenderRow.id) == row.id,
                        col(RenderRow.lease_owner) == row.lease_owner,
                        col(RenderRow.lease_expires_at) < now,
                    )
                    .values(lease_owner=None, lease_expires_at=None)
                )
                if changed(result) == 1:
                    reaped.append(row.id)
                    s.add(
                        mapping.audit_row(
                            AuditEvent(
                                kind="render.reaped",
                                actor="clipdesk",
                                request_id=row.request_id,
                                render_id=row.id,
                                data={"lease_owner": row.lease_owner, "status": row.status},
                            )
                        )
                    )
            return reaped

    async def queue_position(self, render_id: str) -> int:
        async with self._session() as s:
            row = await s.get(RenderRow, render_id)
            if row is None or row.status != RenderStatus.QUEUED.value:
                return 0
            ahead = (
                await s.execute(
                    select(func.count())
                    .select_from(RenderRow)
                    .where(
                        col(RenderRow.status) == RenderStatus.QUEUED.value,
                        col(RenderRow.created_at) < row.created_at,
                    )
                )
            ).scalar_one()
            return int(ahead) + 1

    # ------------------------------------------------------------------ audit

    async def audit(self, event: AuditEvent) -> None:
        async with self._session() as s, s.begin():
            s.add(mapping.audit_row(event))

    async def audit_events(self, since: datetime | None = None) -> list[AuditEvent]:
        async with self._session() as s:
            query = select(AuditRow).order_by(col(AuditRow.at), col(AuditRow.id))
            if since is not None:
                query = query.where(col(AuditRow.at) >= since)
            return [mapping.to_audit(r) for r in (await s.execute(query)).scalars().all()]
