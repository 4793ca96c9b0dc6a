"""Reads of multi-shot cuts (written in a unit of work with their renders: :meth:`SqlTx.add_cut`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cuts import Cut
from storage import mapping
from storage.tx import cuts_t


class SqlCuts:
    """``bot.ports.storage.CutRepo`` on SQLite or PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get_cut(self, cut_id: str) -> Cut | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(cuts_t).where(cuts_t.c.id == cut_id))).mappings().first()
        return mapping.to_cut(row) if row else None

    async def latest_cut(self, request_id: str) -> Cut | None:
        query = (
            select(cuts_t).where(cuts_t.c.request_id == request_id).order_by(cuts_t.c.version.desc()).limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return mapping.to_cut(row) if row else None

    async def cuts_for(self, request_id: str) -> list[Cut]:
        query = select(cuts_t).where(cuts_t.c.request_id == request_id).order_by(cuts_t.c.version)
        async with self.engine.connect() as conn:
            return [mapping.to_cut(r) for r in (await conn.execute(query)).mappings()]
