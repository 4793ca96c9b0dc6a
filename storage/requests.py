"""Requests and briefs as the use cases read them, the intake leases, and paged lists."""

from __future__ import annotations

import base64
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import Brief, ReplyTarget, RequestStatus, VideoRequest, utcnow
from bot.lifecycle import OPEN_REQUEST_STATES
from bot.ports.storage import Page, RequestFilter
from storage import mapping
from storage.leases import changed
from storage.tx import REQUESTS_BY_ID, briefs_t, requests_t

# One statement for many rows (executemany): a burst of opened threads is one write.
_SET_THREAD = (
    update(requests_t)
    .where(requests_t.c.id == bindparam("b_id"))
    .values(channel=bindparam("channel"), thread=bindparam("thread"))
)


class SqlRequests:
    """:class:`RequestRepo`, :class:`IntakeQueue` and :class:`ReadModels` on one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get_request(self, request_id: str) -> VideoRequest | None:
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(requests_t).where(requests_t.c.id == request_id)))
                .mappings()
                .first()
            )
        return mapping.to_request(row) if row else None

    async def get_requests(self, request_ids: Collection[str]) -> dict[str, VideoRequest]:
        if not request_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = (await conn.execute(REQUESTS_BY_ID, {"ids": list(request_ids)})).mappings()
            return {row["id"]: mapping.to_request(row) for row in rows}

    async def find_request_by_thread(self, target: ReplyTarget) -> VideoRequest | None:
        if target.thread is None:
            return None
        query = (
            select(requests_t)
            .where(
                requests_t.c.platform == target.platform,
                requests_t.c.channel == target.channel,
                requests_t.c.thread == target.thread,
            )
            .order_by(requests_t.c.created_at.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return mapping.to_request(row) if row else None

    async def open_requests(self, platform: str, workspace: str, requester: str) -> list[VideoRequest]:
        query = (
            select(requests_t)
            .where(
                requests_t.c.platform == platform,
                requests_t.c.workspace == workspace,
                requests_t.c.requester == requester,
                requests_t.c.status.in_([s.value for s in OPEN_REQUEST_STATES]),
            )
            .order_by(requests_t.c.created_at)
        )
        return await self._requests(query)

    async def requests_in_status(self, status: RequestStatus) -> list[VideoRequest]:
        return await self._requests(select(requests_t).where(requests_t.c.status == status.value))

    async def set_thread(self, request_id: str, thread: ReplyTarget) -> None:
        await self.set_threads([(request_id, thread)])

    async def set_threads(self, threads: Sequence[tuple[str, ReplyTarget]]) -> None:
        if not threads:
            return
        rows = [{"b_id": rid, "channel": t.channel, "thread": t.thread} for rid, t in threads]
        async with self.engine.begin() as conn:
            await conn.execute(_SET_THREAD, rows)

    async def latest_brief(self, request_id: str) -> Brief | None:
        query = (
            select(briefs_t)
            .where(briefs_t.c.request_id == request_id)
            .order_by(briefs_t.c.version.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return mapping.to_brief(row) if row else None

    async def get_brief(self, brief_id: str) -> Brief | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(briefs_t).where(briefs_t.c.id == brief_id))).mappings().first()
        return mapping.to_brief(row) if row else None

    async def briefs_for(self, request_id: str) -> list[Brief]:
        query = select(briefs_t).where(briefs_t.c.request_id == request_id).order_by(briefs_t.c.version)
        async with self.engine.connect() as conn:
            return [mapping.to_brief(r) for r in (await conn.execute(query)).mappings()]

    # ------------------------------------------------------------------ intake leases

    async def lease_intake(self, request_id: str, owner: str, until: datetime) -> bool:
        now = utcnow()
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(requests_t)
                .where(
                    requests_t.c.id == request_id,
                    or_(
                        requests_t.c.lease_owner.is_(None),
                        requests_t.c.lease_owner == owner,
                        requests_t.c.lease_expires_at < now,
                    ),
                )
                .values(lease_owner=owner, lease_expires_at=until)
            )
        return changed(result) == 1

    async def release_intake(self, request_id: str, owner: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(requests_t)
                .where(requests_t.c.id == request_id, requests_t.c.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    async def stale_intake(
        self, now: datetime, states: Collection[RequestStatus], older_than: datetime, limit: int
    ) -> list[VideoRequest]:
        query = (
            select(requests_t)
            .where(
                requests_t.c.status.in_([s.value for s in states]),
                requests_t.c.updated_at < older_than,
                or_(requests_t.c.lease_owner.is_(None), requests_t.c.lease_expires_at < now),
            )
            .order_by(requests_t.c.created_at)
            .limit(limit)
        )
        return await self._requests(query)

    # ------------------------------------------------------------------ lists

    async def list_requests(self, where: RequestFilter, *, limit: int, cursor: str | None) -> Page:
        """Newest first, ``limit`` at a time; the cursor is the last item's (created_at, id)."""
        query = select(requests_t).where(
            requests_t.c.platform == where.platform, requests_t.c.workspace == where.workspace
        )
        if where.statuses:
            query = query.where(requests_t.c.status.in_([s.value for s in where.statuses]))
        if where.requester:
            query = query.where(requests_t.c.requester == where.requester)
        if where.since:
            query = query.where(requests_t.c.created_at >= where.since)
        if cursor:
            at, last_id = _read_cursor(cursor)
            query = query.where(
                or_(
                    requests_t.c.created_at < at,
                    and_(requests_t.c.created_at == at, requests_t.c.id < last_id),
                )
            )
        query = query.order_by(requests_t.c.created_at.desc(), requests_t.c.id.desc()).limit(limit + 1)
        items = await self._requests(query)
        more = len(items) > limit
        items = items[:limit]
        next_cursor = _write_cursor(items[-1]) if more and items else None
        return Page(items, next_cursor)

    async def _requests(self, query: object) -> list[VideoRequest]:
        async with self.engine.connect() as conn:
            return [mapping.to_request(r) for r in (await conn.execute(query)).mappings()]  # type: ignore[call-overload]


def _write_cursor(request: VideoRequest) -> str:
    raw = f"{request.created_at.isoformat()}|{request.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[datetime, str]:
    """Decode a cursor; a tampered or foreign one raises ``ValueError``."""
    padded = cursor + "=" * (-len(cursor) % 4)
    at, sep, last_id = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
    if not sep or not last_id:
        raise ValueError("not a clipdesk cursor")
    return datetime.fromisoformat(at), last_id
