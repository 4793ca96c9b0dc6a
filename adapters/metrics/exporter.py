"""Wire the metrics into a process: the observers, the periodic read-outs and the exporters."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, start_http_server

from adapters.metrics import CLAIM_LATENCY, OUTBOX_LAG, QUEUE_AGE, QUEUE_DEPTH, REGISTRY
from adapters.metrics.events import EventMetrics
from bot.domain import Render
from storage.repository import SqlStore
from storage.stats import queue_stats

if TYPE_CHECKING:
    from adapters.runtime.container import App

log = logging.getLogger(__name__)


def instrument(store: SqlStore) -> None:
    """Feed the instruments from this process's committed events and its claims."""
    store.on_events(EventMetrics())
    store.renders.on_claimed = observe_claims


def observe_claims(renders: list[Render], now: datetime) -> None:
    for render in renders:
        due = render.next_attempt_at or render.created_at
        CLAIM_LATENCY.observe(max((now - due).total_seconds(), 0.0))


async def refresh(app: App) -> None:
    """Read queue depth, the oldest waiting render and outbox lag from the database into the gauges."""
    stats = await queue_stats(app.store.engine, app.clock.now())
    for status, count in stats.depth.items():
        QUEUE_DEPTH.labels(status=status).set(count)
    QUEUE_AGE.set(stats.oldest_queued_seconds)
    for sink in set(app.deliverer.sinks) | set(stats.outbox_lag):
        OUTBOX_LAG.labels(sink=sink).set(stats.outbox_lag.get(sink, 0.0))


def exposition() -> tuple[bytes, str]:
    """The text a Prometheus scrape gets, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def serve_worker_metrics(host: str, port: int) -> int:
    """Serve ``/metrics`` for a worker on its own port (``0``: any free one); returns the port."""
    server, _thread = start_http_server(port, addr=host, registry=REGISTRY)
    bound = int(server.server_port)
    log.info("worker metrics on http://%s:%d/metrics", host, bound)
    return bound
