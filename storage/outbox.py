"""The outbox table: events waiting for their sinks, leased like renders, delivered once, in order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, false, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from bot.domain import utcnow
from bot.ports.storage import OutboxEntry
from storage import mapping
from storage.tables import ThreadMessageRow
from storage.tx import outbox_t

refs_t = ThreadMessageRow.__table__  # type: ignore[attr-defined]


# Built once; executed with one parameter set per delivery.
_MARK_DELIVERED = (
    update(outbox_t)
    .where(outbox_t.c.id == bindparam("b_id"), outbox_t.c.lease_owner == bindparam("b_owner"))
    .values(delivered_at=bindparam("b_at"), ref=bindparam("b_ref"), lease_owner=None, lease_expires_at=None)
)


class SqlOutbox:
    """:class:`OutboxStore` and :class:`MessageRefs` on one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def _due(self, now: datetime, wanted: Sequence[tuple[str, Sequence[str] | None]]) -> ColumnElement[bool]:
        pairs = [
            outbox_t.c.sink == sink
            if routes is None
            else and_(outbox_t.c.sink == sink, outbox_t.c.route.in_(list(routes)))
            for sink, routes in wanted
        ]
        earlier = outbox_t.alias("earlier")
        # An entry waits while an earlier entry of the same request and sink is undelivered:
        # a thread shows the brief before the clip, whichever process delivers them.
        blocked = exists().where(
            earlier.c.request_id == outbox_t.c.request_id,
            earlier.c.sink == outbox_t.c.sink,
            earlier.c.seq < outbox_t.c.seq,
            earlier.c.delivered_at.is_(None),
            earlier.c.abandoned == false(),
        )
        return and_(
            outbox_t.c.delivered_at.is_(None),
            outbox_t.c.abandoned == false(),
            or_(*pairs),
            or_(outbox_t.c.lease_owner.is_(None), outbox_t.c.lease_expires_at < now),
            or_(outbox_t.c.next_attempt_at.is_(None), outbox_t.c.next_attempt_at <= now),
            ~blocked,
        )

    async def claim_entries(
        self,
        owner: str,
        now: datetime,
        lease_seconds: float,
        limit: int,
        wanted: Sequence[tuple[str, Sequence[str] | None]],
    ) -> list[OutboxEntry]:
        wanted = [(sink, routes) for sink, routes in wanted if routes is None or routes]
        if not wanted:
            return []
        due = select(outbox_t.c.seq).where(self._due(now, wanted)).order_by(outbox_t.c.seq).limit(limit)
        if self.postgres:
            due = due.with_for_update(skip_locked=True)
        picked = due.cte("due")  # evaluated once (see storage.renders)
        claim = (
            update(outbox_t)
            .where(outbox_t.c.seq.in_(select(picked.c.seq)))
            .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds))
            .returning(*outbox_t.c)
        )
        async with self.engine.begin() as conn:
            rows = sorted((await conn.execute(claim)).mappings(), key=lambda r: r["seq"])
        return [
            OutboxEntry(
                id=r["id"],
                key=r["key"],
                sink=r["sink"],
                route=r["route"],
                event=mapping.from_event_document(r["event"]),
                attempts=r["attempts"],
            )
            for r in rows
        ]

    async def renew(self, entry_id: str, owner: str, until: datetime) -> bool:
        """Keep the lease of an entry a long delivery (a big upload) is still working on."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(outbox_t)
                .where(outbox_t.c.id == entry_id, outbox_t.c.lease_owner == owner)
                .values(lease_expires_at=until)
            )
        return bool(result.rowcount == 1)

    async def delivered(self, entry_id: str, owner: str, ref: str | None) -> None:
        await self.delivered_many([(entry_id, ref)], owner)

    async def delivered_many(self, done: Sequence[tuple[str, str | None]], owner: str) -> None:
        if not done:
            return
        now = utcnow()
        rows = [{"b_id": entry_id, "b_owner": owner, "b_ref": ref, "b_at": now} for entry_id, ref in done]
        async with self.engine.begin() as conn:
            await conn.execute(_MARK_DELIVERED, rows)

    async def delivery_failed(
        self, entry_id: str, owner: str, error: str, retry_at: datetime, give_up: bool
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(outbox_t)
                .where(outbox_t.c.id == entry_id, outbox_t.c.lease_owner == owner)
                .values(
                    attempts=outbox_t.c.attempts + 1,
                    last_error=error[:2000],
                    next_attempt_at=retry_at,
                    abandoned=give_up,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )

    async def pending(self, sink: str | None = None) -> int:
        """Entries not yet delivered nor abandoned (tests and health checks)."""
        query = select(outbox_t.c.seq).where(
            outbox_t.c.delivered_at.is_(None), outbox_t.c.abandoned == false()
        )
        if sink is not None:
            query = query.where(outbox_t.c.sink == sink)
        async with self.engine.connect() as conn:
            return len((await conn.execute(query)).all())

    # ------------------------------------------------------------------ message refs

    async def remember_ref(self, request_id: str, role: str, ref: str) -> None:
        dialect_insert = postgresql.insert if self.postgres else sqlite.insert
        statement = dialect_insert(refs_t).values(request_id=request_id, role=role, ref=ref)
        statement = statement.on_conflict_do_update(index_elements=["request_id", "role"], set_={"ref": ref})
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def message_ref(self, request_id: str, role: str) -> str | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(refs_t.c.ref).where(refs_t.c.request_id == request_id, refs_t.c.role == role)
                )
            ).scalar_one_or_none()
