"""Outgoing webhooks as an outbox sink: Standard Webhooks signatures, scheduled retries, endpoints disabled.

Each public event (``request.created``, ``brief.ready``, ``render.ready``,
``request.approved|rejected|failed|cancelled``) gets one outbox entry for this
sink; delivering it POSTs the event to every enabled endpoint of the event's
workspace that wants it, signed with each of the endpoint's secrets (several
during a rotation). The message id (``webhook-id``) is derived from the event,
so every retry carries the same id and a receiver can drop repeats.

An endpoint that already accepted the message is skipped when the entry is
retried; any other failure fails the entry, and the outbox retries it on
:attr:`WebhookSink.retry` (by default Svix's 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
10 h). ``410 Gone`` disables the endpoint at once; an endpoint failing for
longer than ``disable_after`` (or past the last retry) is disabled too, and the
audit log says so (``webhook.disabled``). Every attempt is recorded and listed
by ``GET /api/v1/webhooks/{id}/deliveries``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from standardwebhooks import Webhook

from adapters.metrics import record_webhook_delivery
from adapters.webhooks_out.events import PUBLIC_TYPES
from adapters.webhooks_out.targets import TargetRefused, check_target
from bot.coalesce import Coalescer
from bot.domain import ReplyTarget, new_id
from bot.domain_events import DomainEvent, event
from bot.errors import DeliveryRefused
from bot.event_payloads import (
    BriefCreated,
    RequestCancelled,
    RequestFailed,
    RequestReceived,
    ReviewDecision,
    WebhookDisabled,
)
from bot.outbox import Subscription
from bot.ports.media import Clock
from bot.ports.storage import OutboxEntry, RenderQueue, RequestRepo, UnitOfWork
from bot.retry import RetryPolicy
from storage.api_store import DeliveryRecord, EndpointRecord, SqlApiStore
from storage.media import LocalMediaStore

log = logging.getLogger(__name__)
NAME = "webhooks"
SVIX_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


def webhook_route(event: DomainEvent) -> str | None:
    """Public events of a workspace go to this sink, in any process (``""``)."""
    return "" if event.kind in PUBLIC_TYPES and event.workspace and event.request_id else None


SUBSCRIPTION = Subscription(NAME, webhook_route)


def parse_schedule(raw: str) -> tuple[float, ...]:
    """``"5,300,1800"`` → seconds between attempts; raises ``ValueError`` on anything else."""
    steps = tuple(float(part) for part in raw.split(",") if part.strip())
    if not steps or any(step < 0 for step in steps):
        raise ValueError(f"{raw!r} is not a comma-separated list of seconds")
    return steps


class WebhookFailed(Exception):
    """At least one endpoint did not take the message; the outbox retries the entry."""


@dataclass(frozen=True)
class WebhookConfig:
    timeout_seconds: float = 15.0
    schedule: tuple[float, ...] = SVIX_SCHEDULE
    allow_private: bool = False
    disable_after: timedelta = timedelta(days=5)
    public_url: str = ""


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    status: int | None
    error: str | None


class WebhookSink:
    """The ``webhooks`` outbox sink (see the module's description)."""

    name = NAME
    concurrency = 32  # deliveries at once (see Deliverer._lane); thread posts get the rest of the loop

    def __init__(
        self,
        *,
        store: SqlApiStore,
        requests: RequestRepo,
        renders: RenderQueue,
        media: LocalMediaStore,
        uow: UnitOfWork,
        clock: Clock,
        config: WebhookConfig,
    ) -> None:
        self.store = store
        self.requests = requests
        self.renders = renders
        self.media = media
        self.uow = uow
        self.clock = clock
        self.config = config
        # Deliveries that start together read their workspaces' endpoints together: most events
        # of a burst go to workspaces with none, and a read each held the thread deliveries up.
        self._endpoints: Coalescer[tuple[str, str], list[EndpointRecord]] = Coalescer(
            self._read_endpoints, most=200
        )
        # One attempt per step of the schedule, plus the first.
        self.retry = RetryPolicy(
            attempts=len(config.schedule) + 1, schedule=config.schedule, never=(DeliveryRefused,)
        )

    @property
    def routes(self) -> Sequence[str] | None:
        return None

    async def deliver(self, entry: OutboxEntry) -> str | None:
        source = entry.event
        kind = PUBLIC_TYPES.get(source.kind)
        if kind is None:
            return None
        endpoints = [
            e
            for e in await self._endpoints.submit((source.platform, source.workspace))
            if e.enabled and e.wants(kind)
        ]
        if not endpoints:
            return None
        message_id = f"msg_{source.id}"
        body = json.dumps(await self._message(kind, source), separators=(",", ":"), sort_keys=True)
        outcomes = await asyncio.gather(
            *(self._deliver_to(e, message_id, kind, source, body, entry.attempts + 1) for e in endpoints)
        )
        failed = [e.url for e, ok in zip(endpoints, outcomes, strict=True) if not ok]
        if failed:
            raise WebhookFailed(f"{len(failed)} endpoint(s) did not take {message_id}: {', '.join(failed)}")
        return message_id

    async def _read_endpoints(self, workspaces: Sequence[tuple[str, str]]) -> list[list[EndpointRecord]]:
        found = await self.store.endpoints_of(workspaces)
        return [list(found[key]) for key in workspaces]

    async def give_up(self, entry: OutboxEntry, error: str) -> None:
        """The last retry failed: every endpoint still failing is disabled, and the audit says so."""
        source = entry.event
        message_id = f"msg_{source.id}"
        for endpoint in await self.store.endpoints(source.platform, source.workspace):
            failing = endpoint.enabled and endpoint.failing_since is not None
            if failing and not await self.store.delivered(endpoint.id, message_id):
                await self._disable(endpoint, f"kept failing: {error}"[:500])

    # ------------------------------------------------------------------ one endpoint

    async def _deliver_to(
        self,
        endpoint: EndpointRecord,
        message_id: str,
        kind: str,
        source: DomainEvent,
        body: str,
        attempt: int,
    ) -> bool:
        """Send to one endpoint; ``True`` when nothing more is to be done for it."""
        if await self.store.delivered(endpoint.id, message_id):
            return True
        started = time.monotonic()
        outcome = await self._post(endpoint, message_id, body)
        # Every attempt counts, whatever happens next (an abandoned entry is counted where the
        # outbox gives it up: adapters.metrics.events).
        record_webhook_delivery("delivered" if outcome.ok else "failed")
        now = self.clock.now()
        await self.store.add_delivery(
            DeliveryRecord(
                id=new_id("whd"),
                endpoint_id=endpoint.id,
                message_id=message_id,
                event_kind=kind,
                request_id=source.request_id,
                attempt=attempt,
                status_code=outcome.status,
                ok=outcome.ok,
                error=outcome.error,
                duration_ms=round((time.monotonic() - started) * 1000, 2),
                at=now,
            )
        )
        if outcome.ok:
            if endpoint.failing_since is not None:
                await self.store.mark_failing(endpoint.id, None)
            return True
        if outcome.status == 410:
            # The receiver says the subscription is gone: stop, and do not retry this message there.
            await self._disable(endpoint, "the endpoint answered 410 Gone")
            return True
        log.warning(
            "webhook %s to %s failed (attempt %d): %s",
            message_id,
            endpoint.url,
            attempt,
            outcome.error or outcome.status,
        )
        await self.store.mark_failing(endpoint.id, now)
        since = endpoint.failing_since or now
        if now - since >= self.config.disable_after:
            await self._disable(endpoint, f"failing since {since:%Y-%m-%d %H:%M} UTC")
            return True
        return False

    async def _post(self, endpoint: EndpointRecord, message_id: str, body: str) -> _Outcome:
        try:
            await check_target(endpoint.url, allow_private=self.config.allow_private)
        except TargetRefused as exc:
            return _Outcome(False, None, str(exc))
        at = self.clock.now()
        signatures = " ".join(Webhook(secret).sign(message_id, at, body) for secret in endpoint.secrets)
        headers = {
            "content-type": "application/json",
            "user-agent": "clipdesk-webhooks/1",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signatures,
        }
        timeout = aiohttp.ClientTimeout(total=self.config.timeout_seconds)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.post(
                    endpoint.url, data=body.encode(), headers=headers, allow_redirects=False
                ) as response,
            ):
                await response.content.read(4096)  # a little of the answer, never a flood
                ok = 200 <= response.status < 300
                return _Outcome(ok, response.status, None if ok else f"HTTP {response.status}")
        except TimeoutError:
            return _Outcome(False, None, f"no answer within {self.config.timeout_seconds:g} s")
        except aiohttp.ClientError as exc:
            return _Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])

    async def _disable(self, endpoint: EndpointRecord, reason: str) -> None:
        now = self.clock.now()
        if not await self.store.disable_endpoint(endpoint.id, reason, now):
            return
        log.warning("webhook endpoint %s (%s) disabled: %s", endpoint.id, endpoint.url, reason)
        where = ReplyTarget(endpoint.platform, endpoint.workspace, "")
        disabled = WebhookDisabled(endpoint_id=endpoint.id, url=endpoint.url, reason=reason)
        async with self.uow.transaction() as tx:
            await tx.record(event(disabled, "clipdesk", target=where, at=now))

    # ------------------------------------------------------------------ the message

    async def _message(self, kind: str, source: DomainEvent) -> dict[str, Any]:
        assert source.request_id is not None
        request_id = source.request_id
        base = self.config.public_url.rstrip("/")
        data: dict[str, Any] = {
            "request_id": request_id,
            "platform": source.platform,
            "workspace": source.workspace,
            "channel": source.channel or None,
            "actor": source.actor,
            "url": f"{base}/api/v1/requests/{request_id}",
        }
        request = await self.requests.get_request(request_id)
        if request is not None:
            data["status"] = request.status.value
        p = source.payload
        if isinstance(p, RequestReceived):
            data.update(prompt=p.text, options=p.options, requester=source.actor)
        elif isinstance(p, BriefCreated):
            brief = await self.requests.get_brief(p.brief_id)
            data.update(brief_id=p.brief_id, version=p.version, awaiting_render=p.awaiting)
            if brief is not None:
                data.update(
                    prompt=brief.prompt,
                    seconds=brief.seconds,
                    aspect=brief.aspect,
                    shots=[s.to_dict() for s in brief.shots],
                    cost_estimate=brief.plan.cost_estimate if brief.plan else None,
                )
        elif isinstance(p, ReviewDecision):
            data.update(render_id=p.render_id, reviewer=source.actor, reviewer_name=p.reviewer_name)
            data.update(reason=p.reason, brief_version=p.brief_version)
            data["clip_url"] = await self._clip_url(p.render_id)
        elif isinstance(p, RequestFailed):
            data.update(reason=p.reason, render_id=p.render_id)
        elif isinstance(p, RequestCancelled):
            data.update(by=source.actor, by_name=p.by_name)
        if source.render_id and "clip_url" not in data:
            render = await self.renders.get_render(source.render_id)
            if render is not None:
                data.update(
                    render_id=render.id,
                    provider=render.provider,
                    model=render.model,
                    seconds=render.seconds,
                    size=render.size,
                    cost_estimate=render.cost_estimate,
                    cost_actual=render.cost_actual,
                )
                data["clip_url"] = await self._clip_url(render.id)
        return {"type": kind, "timestamp": source.at.isoformat(), "data": data}

    async def _clip_url(self, render_id: str) -> str | None:
        render = await self.renders.get_render(render_id)
        if render is None or not render.clip_path:
            return None
        try:
            return self.media.url_for(Path(render.clip_path))
        except ValueError:
            return None
