"""A stop must stop: the long-running loops re-raise a cancel that a driver turned into its own error."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from bot.clock import SystemClock
from bot.outbox import Deliverer, DeliveryConfig
from bot.ports.storage import OutboxEntry, OutboxStore, UnitOfWork


class DriverError(Exception):
    """What SQLAlchemy raises (MissingGreenlet) when aiosqlite is cancelled while connecting."""


class CancelSurfacesAsDriverError:
    """An outbox store whose claim blocks, and reports a cancel as a driver error."""

    def __init__(self) -> None:
        self.claiming = asyncio.Event()
        self.claims = 0

    async def claim_entries(
        self,
        owner: str,
        now: datetime,
        lease_seconds: float,
        limit: int,
        wanted: Sequence[tuple[str, Sequence[str] | None]],
    ) -> list[OutboxEntry]:
        self.claims += 1
        self.claiming.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise DriverError("greenlet_spawn has not been called") from None
        return []


class QuietSink:
    name = "thread"
    routes: Sequence[str] | None = None

    async def deliver(self, entry: OutboxEntry) -> str | None:
        return None

    async def give_up(self, entry: OutboxEntry, error: str) -> None:
        return None


async def test_a_cancelled_deliverer_stops_even_when_the_driver_reports_the_cancel_as_an_error() -> None:
    store = CancelSurfacesAsDriverError()
    deliverer = Deliverer(
        outbox=cast(OutboxStore, store),
        uow=cast(UnitOfWork, cast(Any, None)),
        sinks=[QuietSink()],
        clock=SystemClock(),
        config=DeliveryConfig(owner="test"),
    )
    running = asyncio.create_task(deliverer.run(tick=0.01))
    await asyncio.wait_for(store.claiming.wait(), 30)
    running.cancel()
    done, _ = await asyncio.wait([running], timeout=30)
    # Before the fix the loop logged the error, claimed again and never ended.
    assert done == {running} and running.cancelled()
    assert store.claims == 1
