"""Operational read-outs for metrics: queue depth by status, the oldest waiting render, outbox lag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import RenderStatus
from storage.claims import UNFINISHED
from storage.tx import outbox_t, renders_t


@dataclass(frozen=True)
class QueueStats:
    depth: dict[str, int]  # unfinished renders by status (every unfinished status, 0 included)
    oldest_queued_seconds: float  # the oldest render queued and not leased; 0 when none
    outbox_lag: dict[str, float]  # per sink: age of its oldest undelivered entry


async def queue_stats(engine: AsyncEngine, now: datetime) -> QueueStats:
    """Three aggregate queries on the status and due indexes; cheap enough to run every few seconds."""
    async with engine.connect() as conn:
        depth = {status: 0 for status in UNFINISHED}
        counted = select(renders_t.c.status, func.count()).where(renders_t.c.status.in_(UNFINISHED))
        for status, count in await conn.execute(counted.group_by(renders_t.c.status)):
            depth[status] = int(count)
        oldest = (
            await conn.execute(
                select(func.min(renders_t.c.created_at)).where(
                    renders_t.c.status == RenderStatus.QUEUED.value, renders_t.c.lease_owner.is_(None)
                )
            )
        ).scalar_one_or_none()
        pending = select(outbox_t.c.sink, func.min(outbox_t.c.created_at)).where(
            outbox_t.c.delivered_at.is_(None), outbox_t.c.abandoned.is_(False)
        )
        lag = {
            sink: _age(now, created)
            for sink, created in await conn.execute(pending.group_by(outbox_t.c.sink))
        }
    return QueueStats(depth, _age(now, oldest) if oldest is not None else 0.0, lag)


def _age(now: datetime, then: datetime) -> float:
    if then.tzinfo is None:  # SQLite hands back naive UTC
        then = then.replace(tzinfo=now.tzinfo)
    return max((now - then).total_seconds(), 0.0)
