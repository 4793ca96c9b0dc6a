"""The outbox table: what must be posted into a thread, leased like renders, posted once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from bot.domain import Delivery, utcnow
from storage import mapping
from storage.leases import take_leases
from storage.tables import DeliveryRow


def delivery_row(delivery: Delivery) -> DeliveryRow:
    return DeliveryRow(
        id=delivery.id,
        key=delivery.key,
        request_id=delivery.request_id,
        platform=delivery.platform,
        kind=delivery.kind,
        payload=delivery.payload,
        created_at=utcnow(),
    )


class OutboxStore:
    """The outbox half of the store (see :class:`storage.repository.SqlStore`)."""

    _session: async_sessionmaker[AsyncSession]
    _postgres: bool

    async def enqueue(self, delivery: Delivery) -> bool:
        try:
            async with self._session() as s, s.begin():
                s.add(delivery_row(delivery))
            return True
        except IntegrityError:
            return False

    async def claim_deliveries(
        self, owner: str, now: datetime, lease_seconds: float, limit: int, platforms: Sequence[str]
    ) -> list[Delivery]:
        if not platforms:
            return []
        due = and_(
            col(DeliveryRow.delivered_at).is_(None),
            col(DeliveryRow.abandoned).is_(False),
            col(DeliveryRow.platform).in_(list(platforms)),
            or_(col(DeliveryRow.lease_owner).is_(None), col(DeliveryRow.lease_expires_at) < now),
            or_(col(DeliveryRow.next_attempt_at).is_(None), col(DeliveryRow.next_attempt_at) <= now),
        )
        async with self._session() as s, s.begin():
            rows = await take_leases(
                s,
                DeliveryRow,
                due,
                (col(DeliveryRow.created_at),),
                owner=owner,
                until=now + timedelta(seconds=lease_seconds),
                limit=limit,
                skip_locked=self._postgres,
            )
            return [mapping.to_delivery(r) for r in rows]

    async def delivered(self, delivery_id: str, owner: str, ref: str) -> None:
        async with self._session() as s, s.begin():
            await s.execute(
                update(DeliveryRow)
                .where(col(DeliveryRow.id) == delivery_id, col(DeliveryRow.lease_owner) == owner)
                .values(delivered_at=utcnow(), ref=ref, lease_owner=None, lease_expires_at=None)
            )

    async def delivery_failed(
        self, delivery_id: str, owner: str, error: str, retry_at: datetime, give_up: bool
    ) -> None:
        async with self._session() as s, s.begin():
            await s.execute(
                update(DeliveryRow)
                .where(col(DeliveryRow.id) == delivery_id, col(DeliveryRow.lease_owner) == owner)
                .values(
                    attempts=col(DeliveryRow.attempts) + 1,
                    last_error=error[:2000],
                    next_attempt_at=retry_at,
                    abandoned=give_up,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )

    async def delivery_ref(self, key: str) -> str | None:
        async with self._session() as s:
            return (
                await s.execute(select(col(DeliveryRow.ref)).where(col(DeliveryRow.key) == key))
            ).scalar_one_or_none()
