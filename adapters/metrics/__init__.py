"""Prometheus metrics (prometheus-client): the instruments, one registry per process, and the exporters.

``serve`` exposes ``/metrics`` on its web app; a ``worker`` serves them on its own
port (``CLIPDESK_WORKER_METRICS_PORT``). The core knows nothing of this: the
instruments are fed by an observer of committed domain events
(:mod:`adapters.metrics.events`), the queue's claim hook, the web app's ack
timing, and a periodic read of queue depth and outbox lag.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_RENDER_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0)

REQUESTS = Counter(
    "clipdesk_requests",
    "Requests reaching a status (each transition counted once, by the process that made it).",
    ["platform", "status"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "clipdesk_queue_depth",
    "Unfinished renders by status (read from the database every few seconds).",
    ["status"],
    registry=REGISTRY,
)
QUEUE_AGE = Gauge(
    "clipdesk_queue_oldest_seconds",
    "Age of the oldest queued render nobody holds (0 when none waits).",
    registry=REGISTRY,
)
CLAIM_LATENCY = Histogram(
    "clipdesk_claim_latency_seconds",
    "From a render becoming due (queued, or its retry time) to a worker claiming it.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
RENDER_SECONDS = Histogram(
    "clipdesk_render_seconds",
    "From submission (or the worker taking it up) to a render's end, by outcome (ready, failed).",
    ["provider", "model", "outcome"],
    buckets=_RENDER_BUCKETS,
    registry=REGISTRY,
)
PROVIDER_ERRORS = Counter(
    "clipdesk_provider_errors",
    "Provider errors by kind: transient (retried), permanent, refused, uncertain, capacity (failed over).",
    ["provider", "kind"],
    registry=REGISTRY,
)
COST_USD = Counter(
    "clipdesk_cost_usd",
    "USD spent on finished renders (actual cost where the provider reports it, else the estimate).",
    ["workspace", "provider"],
    registry=REGISTRY,
)
OUTBOX_LAG = Gauge(
    "clipdesk_outbox_lag_seconds",
    "Age of the oldest undelivered outbox entry per sink (0 when all are delivered).",
    ["sink"],
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "clipdesk_ack_seconds",
    "From a platform's request arriving to clipdesk acknowledging it (Slack's HTTP ack, Discord's deferral).",
    ["platform"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "clipdesk_webhook_deliveries",
    "Outgoing webhook deliveries by outcome (delivered, failed, abandoned).",
    ["outcome"],
    registry=REGISTRY,
)


for _outcome in ("delivered", "failed", "abandoned"):
    WEBHOOK_DELIVERIES.labels(outcome=_outcome)  # every outcome exported from the start, at 0


def record_webhook_delivery(outcome: str) -> None:
    """For the webhooks sink: count one attempt's outcome (``delivered``, ``failed``, ``abandoned``)."""
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()


def record_ack(platform: str, seconds: float) -> None:
    ACK_SECONDS.labels(platform=platform).observe(seconds)
