"""What the worker does when a render ends: retry later, fail with a reason, regenerate after QC.

Also the shared pieces of the worker: its configuration, the lease-lost signal and
the audit record of a render step.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot import views
from bot.backoff import backoff_delay
from bot.chat import ChatRouter
from bot.domain import AuditEvent, Delivery, Render, RenderStatus, RequestStatus, VideoRequest, new_id
from bot.lifecycle import TERMINAL_RENDER_STATES, advance_render
from bot.ports import Clock, Store

log = logging.getLogger(__name__)
S = RenderStatus
R = RequestStatus


def render_seed(render_id: str) -> int:
    """A seed per render: a regenerate or a variant differs, a resumed render does not."""
    return int.from_bytes(hashlib.sha256(render_id.encode()).digest()[:4], "big") % 2**31


class LeaseLost(Exception):
    """Another worker took this render over (our lease expired); stop touching it."""


@dataclass(frozen=True)
class WorkerConfig:
    owner: str
    lease_seconds: float = 60.0
    concurrency: int = 2
    max_attempts: int = 5
    retry_base: float = 2.0
    retry_cap: float = 300.0
    poll_start: float = 2.0
    poll_cap: float = 20.0
    render_timeout: float = 3600.0
    push_providers: frozenset[str] = frozenset()
    qc_regenerate_once: bool = True


def render_audit(kind: str, render: Render, request: VideoRequest | None, **data: object) -> AuditEvent:
    target = request.target if request else None
    return AuditEvent(
        kind=kind,
        actor="clipdesk",
        request_id=render.request_id,
        render_id=render.id,
        platform=target.platform if target else "",
        workspace=target.workspace if target else "",
        channel=target.channel if target else "",
        data={"provider": render.provider, "model": render.model, "attempt": render.attempts, **data},
    )


class RenderOutcomes:
    """The end of a render's road, mixed into :class:`bot.worker.RenderWorker`."""

    store: Store
    chat: ChatRouter
    clock: Clock
    config: WorkerConfig
    _rng: random.Random

    async def _save(self, render: Render, **kwargs: Any) -> None:
        """Write the render if this worker still holds its lease (see RenderWorker)."""
        raise NotImplementedError

    async def _qc_retried(self, render: Render) -> bool:
        siblings = await self.store.renders_for(render.request_id)
        return any(
            r.brief_id == render.brief_id and (r.failure_reason or "").startswith("QC:") for r in siblings
        )

    async def _regenerate_after_qc(
        self, render: Render, request: VideoRequest, findings: tuple[str, ...]
    ) -> None:
        """A clip with a hard QC failure is not worth a reviewer's time: make it once more."""
        reason = "QC: " + "; ".join(findings)
        render.status = advance_render(render.status, S.FAILED)
        render.failure_reason = reason
        again = Render(
            id=new_id("rnd"),
            request_id=render.request_id,
            brief_id=render.brief_id,
            brief_version=render.brief_version,
            provider=render.provider,
            model=render.model,
            seconds=render.seconds,
            size=render.size,
            variant=render.variant,
            cost_estimate=render.cost_estimate,
        )
        await self._save(
            render,
            audit=render_audit(
                "render.qc_regenerate", render, request, findings=list(findings), replacement=again.id
            ),
            new_renders=[again],
        )
        await self._notice(
            request,
            f"⚠️ The clip failed automatic checks ({'; '.join(findings)}); "
            "making it once more before anyone reviews it.",
        )

    # ------------------------------------------------------------------ outcomes

    async def _retry_later(self, render: Render, reason: str, retry_after: float | None) -> None:
        render.attempts += 1
        if render.attempts >= self.config.max_attempts:
            await self._fail(render, f"gave up after {render.attempts} tries: {reason}")
            return
        delay = backoff_delay(
            render.attempts,
            base=self.config.retry_base,
            cap=self.config.retry_cap,
            retry_after=retry_after,
            rng=self._rng,
        )
        render.next_attempt_at = self.clock.now() + timedelta(seconds=delay)
        render.failure_reason = reason
        render.lease_owner = None
        render.lease_expires_at = None
        request = await self.store.get_request(render.request_id)
        log.warning("render %s: %s; retry %d in %.1fs", render.id, reason, render.attempts, delay)
        with contextlib.suppress(LeaseLost):
            await self._save(
                render,
                audit=render_audit("render.retry", render, request, reason=reason, delay=round(delay, 2)),
            )

    async def _fail(self, render: Render, reason: str, *, refused: bool = False) -> None:
        request = await self.store.get_request(render.request_id)
        if render.status in TERMINAL_RENDER_STATES:
            return
        render.status = advance_render(render.status, S.FAILED)
        render.failure_reason = reason
        if render.cost_actual is None and (render.remote_id is None or refused):
            render.cost_actual = 0.0  # never submitted, or refused: the provider charged nothing
        siblings = [r for r in await self.store.renders_for(render.request_id) if r.id != render.id]
        alive = [r for r in siblings if r.status not in TERMINAL_RENDER_STATES]
        any_ready = any(r.status == S.READY for r in siblings)
        deliveries = []
        if request is not None and not alive and not any_ready:
            deliveries.append(
                Delivery(
                    id=new_id("dlv"),
                    key=f"failed:{render.id}",
                    request_id=request.id,
                    platform=request.target.platform,
                    kind="failed",
                    payload={"reason": reason},
                )
            )
        log.error("render %s failed: %s", render.id, reason)
        with contextlib.suppress(LeaseLost):
            await self._save(
                render,
                audit=render_audit(
                    "render.failed",
                    render,
                    request,
                    reason=reason,
                    refused=refused,
                    cost_actual=render.cost_actual,
                ),
                request_from=[R.RENDERING, R.QUEUED] if not alive and not any_ready else [],
                request_to=R.FAILED if not alive and not any_ready else None,
                deliveries=deliveries,
            )

    # ------------------------------------------------------------------ telling the thread

    async def _show(self, request: VideoRequest, render: Render) -> None:
        """Update the one status message in place; progress is best-effort, never fatal."""
        if not self.chat.has(request.target.platform):
            return
        if not request.status_message:
            fresh = await self.store.get_request(request.id)
            if fresh is None or not fresh.status_message:
                return
            request.status_message = fresh.status_message
        try:
            await self.chat.for_target(request.target).update(
                request.target, request.status_message, views.status_message(render)
            )
        except Exception as exc:
            log.warning("could not update the status of %s: %s", request.id, exc)

    async def _notice(self, request: VideoRequest, text: str) -> None:
        try:
            await self.chat.for_target(request.target).post(request.target, views.notice(text))
        except Exception as exc:
            log.warning("could not post a notice to %s: %s", request.id, exc)
