"""The render queue: leased claims shared by every worker replica, and the spend it records.

A claim is one statement: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …``
on PostgreSQL, so replicas pass each other by instead of queueing; on SQLite the
write lock of ``BEGIN IMMEDIATE`` serialises claims and the same statement runs
without the row locks. Either way a lease is won once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import Render, RenderStatus, utcnow
from bot.domain_events import event
from bot.event_payloads import RenderReaped
from storage import mapping
from storage.claims import UNFINISHED
from storage.leases import changed
from storage.tx import audit_t, renders_t, requests_t, spent


class SqlRenders:
    """:class:`RenderQueue` and :class:`UsageLedger` on one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        # Told what each claim took and when (metrics: claim latency); set by the wiring.
        self.on_claimed: Callable[[list[Render], datetime], None] | None = None

    async def get_render(self, render_id: str) -> Render | None:
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(renders_t).where(renders_t.c.id == render_id))).mappings().first()
            )
        return mapping.to_render(row) if row else None

    async def renders_for(self, request_id: str) -> list[Render]:
        query = (
            select(renders_t)
            .where(renders_t.c.request_id == request_id)
            .order_by(renders_t.c.created_at, renders_t.c.variant)
        )
        async with self.engine.connect() as conn:
            return [mapping.to_render(r) for r in (await conn.execute(query)).mappings()]

    def claimed(self, renders: list[Render], now: datetime) -> None:
        """Tell the observer (metrics: claim latency) what a claim took."""
        if renders and self.on_claimed is not None:
            self.on_claimed(renders, now)

    async def renew_lease(self, render_id: str, owner: str, until: datetime) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(renders_t)
                .where(
                    renders_t.c.id == render_id,
                    renders_t.c.lease_owner == owner,
                    renders_t.c.status.in_(UNFINISHED),
                )
                .values(lease_expires_at=until)
            )
        return changed(result) == 1

    async def release_lease(self, render_id: str, owner: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(renders_t)
                .where(renders_t.c.id == render_id, renders_t.c.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    async def leases(self) -> list[tuple[str, str]]:
        """``(render id, lease owner)`` of every unfinished render that is leased."""
        query = select(renders_t.c.id, renders_t.c.lease_owner).where(
            renders_t.c.status.in_(UNFINISHED), renders_t.c.lease_owner.is_not(None)
        )
        async with self.engine.connect() as conn:
            return [(row.id, row.lease_owner) for row in await conn.execute(query)]

    async def reap_expired_leases(self, now: datetime) -> list[str]:
        """Free renders whose lease lapsed; each reaping is audited with whose lease it was."""
        stale = (
            select(
                renders_t.c.id,
                renders_t.c.request_id,
                renders_t.c.lease_owner,
                renders_t.c.status,
                requests_t.c.platform,
                requests_t.c.workspace,
                requests_t.c.channel,
            )
            .join(requests_t, requests_t.c.id == renders_t.c.request_id)
            .where(
                renders_t.c.status.in_(UNFINISHED),
                renders_t.c.lease_owner.is_not(None),
                renders_t.c.lease_expires_at < now,
            )
        )
        if self.postgres:
            stale = stale.with_for_update(of=renders_t, skip_locked=True)
        reaped: list[str] = []
        async with self.engine.begin() as conn:
            for row in list((await conn.execute(stale)).mappings()):
                result = await conn.execute(
                    update(renders_t)
                    .where(
                        renders_t.c.id == row["id"],
                        renders_t.c.lease_owner == row["lease_owner"],
                        renders_t.c.lease_expires_at < now,
                    )
                    .values(lease_owner=None, lease_expires_at=None)
                )
                if changed(result) != 1:
                    continue
                reaped.append(row["id"])
                note = event(
                    RenderReaped(lease_owner=row["lease_owner"], status=row["status"]),
                    "clipdesk",
                    request_id=row["request_id"],
                    render_id=row["id"],
                    at=now,
                )
                values = mapping.audit_values(note)
                values.update(platform=row["platform"], workspace=row["workspace"], channel=row["channel"])
                await conn.execute(insert(audit_t).values(values))
        return reaped

    async def queue_position(self, render_id: str) -> int:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(renders_t.c.status, renders_t.c.created_at).where(renders_t.c.id == render_id)
                )
            ).first()
            if row is None or row.status != RenderStatus.QUEUED.value:
                return 0
            ahead = (
                await conn.execute(
                    select(func.count())
                    .select_from(renders_t)
                    .where(
                        renders_t.c.status == RenderStatus.QUEUED.value,
                        renders_t.c.created_at < row.created_at,
                    )
                )
            ).scalar_one()
        return int(ahead) + 1

    async def set_render_clip(self, render_id: str, clip_path: str, provenance_digest: str | None) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(renders_t)
                .where(renders_t.c.id == render_id)
                .values(clip_path=clip_path, provenance_digest=provenance_digest, updated_at=utcnow())
            )

    async def usage(self, scope: str, key: str, since: datetime) -> float:
        async with self.engine.connect() as conn:
            return await spent(conn, scope, key, since)
