"""The audit log: every domain event, in order, for export, reports and recovery."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain_events import DomainEvent
from storage import mapping
from storage.tx import audit_t


class SqlAudit:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def audit_events(
        self, since: datetime | None = None, request_id: str | None = None
    ) -> list[DomainEvent]:
        query = select(audit_t).order_by(audit_t.c.at, audit_t.c.id)
        if since is not None:
            query = query.where(audit_t.c.at >= since)
        if request_id is not None:
            query = query.where(audit_t.c.request_id == request_id)
        async with self.engine.connect() as conn:
            return [mapping.to_event(r) for r in (await conn.execute(query)).mappings()]
