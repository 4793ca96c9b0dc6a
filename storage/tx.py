"""One unit of work on SQLite or PostgreSQL: rows, audit events and outbox entries commit together.

Every status change is a compare-and-set (``UPDATE … WHERE status IN (…)``);
the caller learns from the result whether it won. Budget checks take an
advisory lock per budget key on PostgreSQL (SQLite's write lock already
serialises them), so two requests at once cannot both spend the last dollar.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.cuts import Cut
from bot.domain import Brief, Render, RenderStatus, RequestStatus, Review, VideoRequest, new_id, utcnow
from bot.domain_events import DomainEvent
from bot.lifecycle import TERMINAL_RENDER_STATES
from bot.outbox import Subscriptions
from bot.ports.storage import BudgetLimit, ClaimedWork
from storage import mapping
from storage.claims import claim_statement
from storage.leases import changed
from storage.tables import (
    AuditRow,
    BriefRow,
    CutRow,
    OutboxRow,
    RenderRow,
    RequestRow,
    ReviewRow,
    SeenEventRow,
)

requests_t = RequestRow.__table__  # type: ignore[attr-defined]
briefs_t = BriefRow.__table__  # type: ignore[attr-defined]
renders_t = RenderRow.__table__  # type: ignore[attr-defined]
reviews_t = ReviewRow.__table__  # type: ignore[attr-defined]
audit_t = AuditRow.__table__  # type: ignore[attr-defined]
outbox_t = OutboxRow.__table__  # type: ignore[attr-defined]
seen_t = SeenEventRow.__table__  # type: ignore[attr-defined]
cuts_t = CutRow.__table__  # type: ignore[attr-defined]


# The hot path's statements are built once: building a statement per call (coercing every value
# into a bound literal, then computing the cache key) was the largest part of a render's cost.
# Their SET clauses come from the keys of the parameters passed with them.
_MOVE_REQUEST = (
    update(requests_t)
    .where(requests_t.c.id == bindparam("b_id"), requests_t.c.status == bindparam("b_from"))
    .returning(*requests_t.c)
)
_MOVE_REQUESTS = (
    update(requests_t)
    .where(
        requests_t.c.id.in_(bindparam("b_ids", expanding=True)),
        requests_t.c.status == bindparam("b_from"),
    )
    .returning(*requests_t.c)
)
_SAVE_RENDER = update(renders_t).where(renders_t.c.id == bindparam("b_id"))
_SAVE_OWN_RENDER = _SAVE_RENDER.where(renders_t.c.lease_owner == bindparam("b_owner"))
_ADD_AUDIT = insert(audit_t)
_ADD_REQUEST = insert(requests_t)
_ADD_BRIEF = insert(briefs_t)
_ADD_RENDERS = insert(renders_t)
_ADD_REVIEW = insert(reviews_t)
# A platform event seen for the first time goes in; a repeat does nothing (RETURNING says which).
_REMEMBER = {
    True: postgresql.insert(seen_t).on_conflict_do_nothing().returning(seen_t.c.key),
    False: sqlite.insert(seen_t).on_conflict_do_nothing().returning(seen_t.c.key),
}
REQUESTS_BY_ID = select(requests_t).where(requests_t.c.id.in_(bindparam("ids", expanding=True)))
_BRIEFS_BY_ID = select(briefs_t).where(briefs_t.c.id.in_(bindparam("ids", expanding=True)))
_ADD_OUTBOX = insert(outbox_t)
_SCOPE_COLUMN = {"user": "user_key", "channel": "channel_key", "workspace": "workspace_key"}


class SqlTx:
    """The :class:`bot.ports.storage.Tx` of one open connection; commits when its block ends."""

    def __init__(self, conn: AsyncConnection, subscriptions: Subscriptions) -> None:
        self.conn = conn
        self.subscriptions = subscriptions
        self.postgres = conn.dialect.name == "postgresql"
        self.wrote_outbox = False
        self.queued_renders = False
        self.outbox_for: set[tuple[str, str]] = set()  # (sink, route) of the entries written
        self.events: list[DomainEvent] = []  # what this transaction recorded, for observers
        # Audit rows and outbox entries are written together when the unit of work ends (see
        # :meth:`flush`): one statement each per transaction instead of two per event.
        self._audit_rows: list[dict[str, Any]] = []
        self._outbox_rows: list[dict[str, Any]] = []
        # Lease-checked render saves held for one statement at the end (see :meth:`hold_saves`).
        self._held_saves: list[dict[str, Any]] | None = None
        self.claimed: list[Render] = []  # renders this transaction leased, for the claim observer
        self.claimed_at: datetime | None = None

    async def remember_event(self, key: str) -> bool:
        return key in await self.remember_events([key])

    async def remember_events(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        now = utcnow()
        found = await self.conn.execute(_REMEMBER[self.postgres], [{"key": k, "seen_at": now} for k in keys])
        return {row[0] for row in found}

    async def add_requests(self, requests: Sequence[VideoRequest]) -> None:
        if requests:
            await self.conn.execute(_ADD_REQUEST, [mapping.request_values(r) for r in requests])

    async def add_request(self, request: VideoRequest) -> None:
        await self.add_requests([request])

    async def move_request(
        self,
        request_id: str,
        expected: Collection[RequestStatus],
        to: RequestStatus,
        *,
        failure_reason: str | None = None,
    ) -> tuple[VideoRequest, RequestStatus] | None:
        starts = [e.value for e in expected]
        previous: str
        if len(starts) == 1:
            previous = starts[0]
        else:
            # Several possible starts: read which one under the row lock, so the event says it.
            query = select(requests_t.c.status).where(requests_t.c.id == request_id)
            if self.postgres:
                query = query.with_for_update()
            found = (await self.conn.execute(query)).scalar_one_or_none()
            if found is None or found not in starts:
                return None
            previous = found
        values: dict[str, Any] = {"status": to.value, "updated_at": utcnow()}
        if failure_reason is not None:
            values["failure_reason"] = failure_reason
        values.update(b_id=request_id, b_from=previous)
        row = (await self.conn.execute(_MOVE_REQUEST, values)).mappings().first()
        if row is None:
            return None
        return mapping.to_request(row), RequestStatus(previous)

    async def move_requests(
        self, request_ids: Sequence[str], start: RequestStatus, to: RequestStatus
    ) -> dict[str, VideoRequest]:
        if not request_ids:
            return {}
        values = {
            "b_ids": list(request_ids),
            "b_from": start.value,
            "status": to.value,
            "updated_at": utcnow(),
        }
        rows = (await self.conn.execute(_MOVE_REQUESTS, values)).mappings()
        return {row["id"]: mapping.to_request(row) for row in rows}

    async def update_ask(self, request_id: str, raw_text: str, options: dict[str, object]) -> None:
        await self.conn.execute(
            update(requests_t)
            .where(requests_t.c.id == request_id)
            .values(raw_text=raw_text, options=options, updated_at=utcnow())
        )

    async def add_brief(self, brief: Brief) -> None:
        await self.conn.execute(_ADD_BRIEF, mapping.brief_values(brief))

    async def add_renders(self, request: VideoRequest, renders: Sequence[Render]) -> None:
        if renders:
            await self.conn.execute(_ADD_RENDERS, [mapping.render_values(r, request) for r in renders])
            self.queued_renders = True

    async def add_cut(self, cut: Cut) -> None:
        await self.conn.execute(insert(cuts_t).values(mapping.cut_values(cut)))

    async def release_render(self, render_id: str, at: datetime) -> bool:
        """Make a waiting (queued, unleased) render due at ``at``: a cut whose shots are all ready."""
        query = (
            update(renders_t)
            .where(
                renders_t.c.id == render_id,
                renders_t.c.status == RenderStatus.QUEUED.value,
                renders_t.c.lease_owner.is_(None),
            )
            .values(next_attempt_at=at)
        )
        done = changed(await self.conn.execute(query)) == 1
        self.queued_renders = self.queued_renders or done
        return done

    async def save_render(self, render: Render, owner: str | None) -> bool:
        values = mapping.render_state(render)
        finished = render.status in TERMINAL_RENDER_STATES
        if finished or render.lease_owner is None:
            # Finished, or given back to the queue: the lease goes. Otherwise the lease stays as
            # the heartbeat last renewed it (the worker's copy may be older).
            values.update(lease_owner=None, lease_expires_at=None)
        values["b_id"] = render.id
        if owner is None:
            return changed(await self.conn.execute(_SAVE_RENDER, values)) == 1
        values["b_owner"] = owner
        if self._held_saves is not None:
            self._held_saves.append(values)
            return True
        return changed(await self.conn.execute(_SAVE_OWN_RENDER, values)) == 1

    def hold_saves(self) -> None:
        if self._held_saves is None:
            self._held_saves = []

    async def claim_work(
        self, owner: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[ClaimedWork]:
        statement = claim_statement(self.postgres, owner, now, lease_seconds, limit)
        renders = sorted(
            (mapping.to_render(r) for r in (await self.conn.execute(statement)).mappings()),
            key=lambda r: (r.created_at, r.variant),
        )
        if not renders:
            return []
        self.claimed, self.claimed_at = renders, now
        requests = {
            row["id"]: mapping.to_request(row)
            for row in (
                await self.conn.execute(REQUESTS_BY_ID, {"ids": list({r.request_id for r in renders})})
            ).mappings()
        }
        briefs = {
            row["id"]: mapping.to_brief(row)
            for row in (
                await self.conn.execute(_BRIEFS_BY_ID, {"ids": list({r.brief_id for r in renders})})
            ).mappings()
        }
        return [ClaimedWork(r, requests.get(r.request_id), briefs.get(r.brief_id)) for r in renders]

    async def add_review(self, review: Review) -> None:
        await self.conn.execute(_ADD_REVIEW, mapping.review_values(review))

    async def spent(self, limit: BudgetLimit, *, lock: bool) -> float:
        if lock and self.postgres:
            key = int.from_bytes(
                hashlib.sha256(f"{limit.scope}:{limit.key}".encode()).digest()[:8], "big", signed=True
            )
            await self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        return await spent(self.conn, limit.scope, limit.key, limit.since)

    async def record(self, event: DomainEvent) -> None:
        self.events.append(event)
        values = mapping.audit_values(event)  # once: the audit row and the outbox's document share it
        if self.subscriptions.audited(event):
            self._audit_rows.append(values)
        wanted = self.subscriptions.entries_for(event)
        if not wanted:
            return
        document = mapping.event_document(event, values)
        now = utcnow()
        self._outbox_rows.extend(
            {
                "id": new_id("obx"),
                "key": f"{sink}:{event.id}",
                "sink": sink,
                "route": route,
                "request_id": event.request_id,
                "kind": event.kind.value,
                "event": document,
                "attempts": 0,
                "abandoned": False,
                "created_at": now,
            }
            for sink, route in wanted
        )
        self.wrote_outbox = True
        self.outbox_for.update(wanted)

    async def flush(self) -> None:
        """Write the audit rows and outbox entries recorded so far (the unit of work calls this
        before it commits; nothing in a transaction reads them back before then)."""
        if self._held_saves:
            saves, self._held_saves = self._held_saves, []
            await self._save_held(saves)
        if self._audit_rows:
            rows, self._audit_rows = self._audit_rows, []
            await self.conn.execute(_ADD_AUDIT, rows)
        if self._outbox_rows:
            # Entries keep the order they were recorded in: ``seq`` orders a request's entries.
            rows, self._outbox_rows = self._outbox_rows, []
            await self.conn.execute(_ADD_OUTBOX, rows)

    async def _save_held(self, saves: list[dict[str, Any]]) -> None:
        """The held saves as one executemany per set of columns; all must win, or none is kept."""
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for values in saves:
            shapes.setdefault(tuple(sorted(values)), []).append(values)
        won = 0
        for rows in shapes.values():
            won += changed(await self.conn.execute(_SAVE_OWN_RENDER, rows))
        if won != len(saves):
            raise LeaseGone(f"{len(saves) - won} of {len(saves)} renders saved together had lost their lease")


class LeaseGone(Exception):
    """A held save found its render's lease gone: the unit of work fails as a whole."""


async def spent(conn: AsyncConnection, scope: str, key: str, since: Any) -> float:
    """USD spent by a budget key since ``since``: actual cost where known, else the estimate."""
    column = renders_t.c[_SCOPE_COLUMN[scope]]
    cost = func.coalesce(renders_t.c.cost_actual, renders_t.c.cost_estimate)
    total = (
        await conn.execute(
            select(func.coalesce(func.sum(cost), 0.0)).where(column == key, renders_t.c.created_at >= since)
        )
    ).scalar_one()
    return float(total)
