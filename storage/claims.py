"""The render claim: one statement that leases due renders and returns their rows.

``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`` on
PostgreSQL, so replicas pass each other by instead of queueing; on SQLite the
write lock of ``BEGIN IMMEDIATE`` serialises claims and the same statement runs
without the row locks. Either way a lease is won once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ColumnElement

from bot.domain import RenderStatus
from bot.lifecycle import TERMINAL_RENDER_STATES
from storage.tables import RenderRow

renders_t = RenderRow.__table__  # type: ignore[attr-defined]
UNFINISHED = [s.value for s in RenderStatus if s not in TERMINAL_RENDER_STATES]


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        renders_t.c.status.in_(UNFINISHED),
        or_(renders_t.c.lease_owner.is_(None), renders_t.c.lease_expires_at < now),
        or_(renders_t.c.next_attempt_at.is_(None), renders_t.c.next_attempt_at <= now),
    )


def claim_statement(postgres: bool, owner: str, now: datetime, lease_seconds: float, limit: int) -> Update:
    """Lease up to ``limit`` due renders to ``owner`` in one statement, returning their rows."""
    due = (
        select(renders_t.c.id)
        .where(_claimable(now))
        .order_by(renders_t.c.created_at, renders_t.c.variant)
        .limit(limit)
    )
    if postgres:
        due = due.with_for_update(skip_locked=True)
    # A CTE is evaluated once: a plain ``IN (SELECT … LIMIT n)`` may be re-run by the planner
    # and lease more than ``n`` rows.
    picked = due.cte("due")
    return (
        update(renders_t)
        .where(renders_t.c.id.in_(select(picked.c.id)), _claimable(now))
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now)
        .returning(*renders_t.c)
    )
