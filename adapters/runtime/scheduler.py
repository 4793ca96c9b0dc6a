"""APScheduler ticks that drive the worker: claim, deliver, reap, retention."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from adapters.runtime.container import App

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


def start_scheduler(app: App, *, render: bool = True) -> AsyncIOScheduler:
    """Start the periodic jobs on the running loop (in-memory job store: jobs are code, not data)."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    tick = app.settings.tick_seconds
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    now = datetime.now(UTC)
    if render:
        scheduler.add_job(
            app.worker.claim_once, "interval", seconds=tick, id="claim", next_run_time=now, **common
        )
        scheduler.add_job(
            app.worker.reap, "interval", seconds=max(app.settings.lease_seconds / 4, 1), id="reap", **common
        )
    scheduler.add_job(
        app.deliverer.deliver_once, "interval", seconds=tick, id="deliver", next_run_time=now, **common
    )
    scheduler.add_job(retention_sweep, "interval", hours=1, args=[app], id="retention", **common)
    scheduler.add_job(
        app.conversation.governance.expire_reviews, "interval", minutes=5, id="expire_reviews", **common
    )
    scheduler.start()
    return scheduler
