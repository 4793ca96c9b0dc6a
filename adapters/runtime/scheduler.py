"""The long-running loops of a process: claim and deliver at once when woken, and the periodic sweeps.

The worker and the deliverer run their own loops (they wake the moment work is
committed in this process or, on PostgreSQL, in any other — ``LISTEN``/``NOTIFY``
through :mod:`storage.notify` — and poll on the tick as a safety net). APScheduler
drives what is periodic by nature: reaping lapsed leases, resuming asks a dead
process left behind, expiring reviews and deleting old media.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from adapters.metrics.exporter import refresh as refresh_metrics
from adapters.runtime.container import App, wake_on

log = logging.getLogger(__name__)


async def retention_sweep(app: App) -> int:
    """Delete clips older than the retention period; the database keeps the records and the audit."""
    days = app.settings.retention_days
    if not days:
        return 0
    removed = app.media.delete_older_than(app.clock.now() - timedelta(days=days))
    if removed:
        log.info("retention: deleted %d files older than %s days", len(removed), days)
    return len(removed)


async def resume_intake(app: App) -> list[str]:
    return await app.usecases.intake.resume_stale(grace_seconds=app.settings.intake_grace_seconds)


@dataclass
class Loops:
    """The running loops of one process; :meth:`stop` ends them."""

    scheduler: AsyncIOScheduler
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def start_loops(app: App, *, render: bool = True) -> Loops:
    """Start the worker (if ``render``), the deliverer and the periodic sweeps on the running loop."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    tick = app.settings.tick_seconds
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    now = datetime.now(UTC)
    loops = Loops(scheduler)
    if render:
        loops.tasks.append(asyncio.create_task(app.worker.run(tick=tick), name="worker"))
        scheduler.add_job(
            app.worker.reap, "interval", seconds=max(app.settings.lease_seconds / 4, 1), id="reap", **common
        )
    loops.tasks.append(asyncio.create_task(app.deliverer.run(tick=tick), name="deliverer"))
    if app.signals is not None:
        # Work committed by other processes (NOTIFY) wakes this one's worker and deliverer at once.
        signals = app.signals.listen(lambda topics: wake_on(topics, app.worker, app.deliverer))
        loops.tasks.append(asyncio.create_task(signals, name="signals"))
    scheduler.add_job(
        resume_intake,
        "interval",
        seconds=max(app.settings.intake_grace_seconds / 3, 1),
        args=[app],
        id="resume_intake",
        next_run_time=now,
        **common,
    )
    scheduler.add_job(
        refresh_metrics, "interval", seconds=5, args=[app], id="metrics", next_run_time=now, **common
    )
    scheduler.add_job(retention_sweep, "interval", hours=1, args=[app], id="retention", **common)
    scheduler.add_job(app.usecases.expiry.run, "interval", minutes=5, id="expire_reviews", **common)
    scheduler.start()
    return loops
