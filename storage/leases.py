"""Take leases on due rows: the one claiming mechanism behind the render queue and the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel, col

Row = TypeVar("Row", bound=SQLModel)


def changed(result: Result[Any]) -> int:
    """Rows an UPDATE touched: the compare-and-set verdict."""
    return int(cast(CursorResult[Any], result).rowcount)


async def take_leases(
    s: AsyncSession,
    model: type[Row],
    due: ColumnElement[bool],
    order: Sequence[Any],
    *,
    owner: str,
    until: datetime,
    limit: int,
    skip_locked: bool,
    extra: dict[str, Any] | None = None,
) -> list[Row]:
    """Lease up to ``limit`` rows matching ``due`` to ``owner``, oldest first.

    On PostgreSQL the candidates are locked with ``FOR UPDATE SKIP LOCKED`` so replicas pass
    each other by instead of queueing; everywhere the lease itself is a compare-and-set on
    ``due``, so a row can only be won once.
    """
    table_id = col(model.id)  # type: ignore[attr-defined]
    query = select(table_id).where(due).order_by(*order).limit(limit)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    won: list[Any] = []
    for row_id in list((await s.execute(query)).scalars().all()):
        result = await s.execute(
            update(model)
            .where(table_id == row_id, due)
            .values(lease_owner=owner, lease_expires_at=until, **(extra or {}))
        )
        if changed(result) == 1:
            won.append(row_id)
    if not won:
        return []
    rows = await s.execute(select(model).where(table_id.in_(won)).order_by(*order))
    return list(rows.scalars().all())
