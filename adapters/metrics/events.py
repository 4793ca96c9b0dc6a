"""Turn committed domain events into metrics: an observer of the unit of work, not calls in the core."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from adapters.metrics import COST_USD, PROVIDER_ERRORS, RENDER_SECONDS, REQUESTS, WEBHOOK_DELIVERIES
from bot.domain_events import DomainEvent
from bot.event_kinds import REQUEST_TARGETS, EventKind
from bot.event_payloads import DeliveryAbandoned, RenderFailed, RenderFailover, RenderReady, RenderRetry

K = EventKind
WEBHOOK_SINK = "webhooks"
_REMEMBERED = 10_000


class EventMetrics:
    """Called with the events of each committed transaction (see ``SqlStore.on_events``)."""

    def __init__(self) -> None:
        # When this process saw each render submitted (else its first event here): a render's time
        # is counted by the worker that finished it, from submission if that worker submitted it.
        self._started: dict[str, datetime] = {}

    def __call__(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            self._observe(event)

    def _observe(self, event: DomainEvent) -> None:
        if event.kind in REQUEST_TARGETS:
            # A new ask is recorded, not moved: its status is the one it was created in.
            status = event.to_status or (
                REQUEST_TARGETS[event.kind].value if event.kind == K.REQUEST_RECEIVED else ""
            )
            if status:
                REQUESTS.labels(platform=event.platform or "unknown", status=status).inc()
        payload = event.payload
        if event.kind == K.RENDER_SUBMITTED and event.render_id:
            self._started[event.render_id] = event.at
            return
        if event.render_id:
            # A render refused before it reached the provider is timed from its first event here.
            self._started.setdefault(event.render_id, event.at)
            if len(self._started) > _REMEMBERED:  # renders another worker finished: forget the oldest
                del self._started[next(iter(self._started))]
        if isinstance(payload, RenderReady):
            self._finished(event, payload.provider, payload.model, "ready", payload.cost_actual)
        elif isinstance(payload, RenderFailed):
            kind = "refused" if payload.refused else "uncertain" if payload.uncertain else "permanent"
            PROVIDER_ERRORS.labels(provider=payload.provider, kind=kind).inc()
            self._finished(event, payload.provider, payload.model, "failed", payload.cost_actual)
        elif isinstance(payload, RenderRetry):
            PROVIDER_ERRORS.labels(provider=payload.provider, kind="transient").inc()
        elif isinstance(payload, RenderFailover):
            PROVIDER_ERRORS.labels(provider=payload.from_provider, kind="capacity").inc()
        elif isinstance(payload, DeliveryAbandoned) and payload.sink == WEBHOOK_SINK:
            WEBHOOK_DELIVERIES.labels(outcome="abandoned").inc()

    def _finished(
        self, event: DomainEvent, provider: str, model: str, outcome: str, cost: float | None
    ) -> None:
        started = self._started.pop(event.render_id or "", None)
        if started is not None:
            seconds = max((event.at - started).total_seconds(), 0.0)
            RENDER_SECONDS.labels(provider=provider, model=model, outcome=outcome).observe(seconds)
        # Free renders too (0 USD): the series exists as soon as a workspace renders on a provider.
        COST_USD.labels(workspace=event.workspace or "unknown", provider=provider).inc(cost or 0.0)
