"""The render worker: claim leased renders, drive them on their provider, hand results to the outbox.

Every step is written to the store before the next one starts, and every
write checks that this worker still holds the lease. The remote id is saved
before the first status poll, so a worker that dies mid-render is replaced by
one that resumes polling the same remote job instead of paying for a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from bot import views
from bot.backoff import backoff_delay, poll_interval
from bot.chat import ChatRouter
from bot.domain import (
    AuditEvent,
    Delivery,
    Render,
    RenderStatus,
    RequestStatus,
    VideoRequest,
    new_id,
)
from bot.errors import (
    CapacityError,
    ContentRefused,
    InvalidOptions,
    MediaError,
    PermanentProviderError,
    TransientProviderError,
)
from bot.lifecycle import TERMINAL_RENDER_STATES, advance_render
from bot.ports import (
    Clock,
    MediaStore,
    PostProcessor,
    RemoteState,
    RenderSpec,
    Store,
)
from bot.routing import ProviderRouter

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


class RenderWorker:
    def __init__(
        self,
        *,
        store: Store,
        providers: ProviderRouter,
        media: MediaStore,
        chat: ChatRouter,
        postprocessor: PostProcessor,
        clock: Clock,
        config: WorkerConfig,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.providers = providers
        self.media = media
        self.chat = chat
        self.post = postprocessor
        self.clock = clock
        self.config = config
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pokes: dict[str, asyncio.Event] = {}

    @property
    def busy(self) -> int:
        return len(self._tasks)

    async def claim_once(self) -> int:
        """Claim as many renders as there are free slots and start driving them."""
        free = self.config.concurrency - len(self._tasks)
        if free <= 0:
            return 0
        renders = await self.store.claim_renders(
            self.config.owner, self.clock.now(), self.config.lease_seconds, free
        )
        for render in renders:
            task = asyncio.create_task(self.run(render), name=f"render:{render.id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(renders)

    async def drain(self) -> None:
        """Wait for every render this worker is driving."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Stop driving (e.g. on shutdown); leases lapse and another worker resumes."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def reap(self) -> list[str]:
        """Free renders whose worker stopped renewing its lease, so another can resume them."""
        reaped = await self.store.reap_expired_leases(self.clock.now())
        for render_id in reaped:
            log.warning("reaped render %s: its worker stopped renewing the lease", render_id)
        return reaped

    # ------------------------------------------------------------------ one render

    async def run(self, render: Render) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(render.id))
        try:
            await self._drive(render)
        except LeaseLost:
            log.warning("lost the lease on render %s; another worker has it", render.id)
        except TransientProviderError as exc:
            await self._retry_later(render, str(exc), exc.retry_after)
        except ContentRefused as exc:
            await self._fail(render, f"{render.provider} refused the prompt: {exc}", refused=True)
        except (PermanentProviderError, InvalidOptions, MediaError) as exc:
            await self._fail(render, str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("render %s failed unexpectedly on %s", render.id, render.provider)
            await self._retry_later(render, f"internal error: {exc}", None)
        finally:
            if render.remote_id:
                self._pokes.pop(render.remote_id, None)
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self, render_id: str) -> None:
        interval = max(self.config.lease_seconds / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            until = self.clock.now() + timedelta(seconds=self.config.lease_seconds)
            if not await self.store.renew_lease(render_id, self.config.owner, until):
                log.warning("could not renew the lease on %s", render_id)
                return

    async def _save(self, render: Render, **kwargs: object) -> None:
        render.updated_at = self.clock.now()
        if not await self.store.save_render(render, self.config.owner, **kwargs):  # type: ignore[arg-type]
            raise LeaseLost(render.id)

    async def _drive(self, render: Render) -> None:
        request = await self.store.get_request(render.request_id)
        if request is None or request.status == R.CANCELLED:
            render.status = advance_render(render.status, S.CANCELLED)
            await self._save(render, audit=render_audit("render.cancelled", render, request))
            return
        if request.status == R.QUEUED:
            await self.store.move_request(
                request.id,
                [R.QUEUED],
                R.RENDERING,
                audit=render_audit("request.rendering", render, request),
            )
        if render.status == S.QUEUED:
            await self._submit(render, request)
        if render.status in (S.SUBMITTED, S.RUNNING):
            await self._poll(render, request)
        if render.status == S.DOWNLOADING:
            await self._download(render, request)
        if render.status == S.POSTPROCESSING:
            await self._postprocess(render, request)

    async def _submit(self, render: Render, request: VideoRequest) -> None:
        brief = await self.store.get_brief(render.brief_id)
        if brief is None:
            raise PermanentProviderError(f"brief {render.brief_id} is missing")
        tried: list[str] = []
        while True:
            provider = self.providers.get(render.provider)
            spec = RenderSpec(
                render_id=render.id,
                brief=brief,
                model=render.model,
                seconds=render.seconds,
                size=render.size,
                aspect=brief.aspect,
                seed=render_seed(render.id),
            )
            try:
                remote_id = await provider.submit(spec)
                break
            except CapacityError as exc:
                tried.append(render.provider)
                wanted = replace(
                    request.options, seconds=render.seconds, aspect=brief.aspect, variants=1, model=None
                )
                plan = self.providers.failover(render.provider, wanted, tried)
                if plan is None:
                    raise
                note = f"{render.provider} is unavailable ({exc}); moving this render to {plan.provider}."
                log.warning("render %s: %s", render.id, note)
                render.provider, render.model, render.size = plan.provider, plan.model, plan.size
                render.cost_estimate = round(plan.price_per_second * plan.seconds, 4)
                await self._save(
                    render, audit=render_audit("render.failover", render, request, reason=str(exc))
                )
                await self._notice(request, f"↪️ {note}")
        # The remote id is stored before any waiting: a crash from here on resumes, not re-pays.
        render.remote_id = remote_id
        render.status = advance_render(render.status, S.SUBMITTED)
        await self._save(
            render,
            audit=render_audit(
                "render.submitted",
                render,
                request,
                remote_id=remote_id,
                seed=render_seed(render.id),
                cost_estimate=render.cost_estimate,
            ),
        )
        await self._show(request, render)

    async def _poll(self, render: Render, request: VideoRequest) -> None:
        assert render.remote_id is not None
        provider = self.providers.get(render.provider)
        deadline = render.created_at + timedelta(seconds=self.config.render_timeout)
        polls, shown = 0, -100
        while True:
            status = await provider.status(render.remote_id)
            if status.state == RemoteState.COMPLETED:
                render.progress = 100
                if render.status == S.SUBMITTED:
                    render.status = advance_render(render.status, S.RUNNING)
                render.status = advance_render(render.status, S.DOWNLOADING)
                render.cost_actual = status.cost if status.cost is not None else render.cost_estimate
                await self._save(render)
                return
            if status.state == RemoteState.FAILED:
                if not status.charged:
                    render.cost_actual = 0.0
                reason = status.error or "the provider reported a failure without a reason"
                if status.refused:
                    raise ContentRefused(reason, provider=render.provider)
                raise PermanentProviderError(reason, provider=render.provider)
            changed = False
            if status.state == RemoteState.RUNNING and render.status == S.SUBMITTED:
                render.status = advance_render(render.status, S.RUNNING)
                changed = True
            if status.progress != render.progress:
                render.progress = status.progress
                changed = True
            if changed:
                await self._save(render)
                if render.progress - shown >= 10 or render.progress == 100:
                    shown = render.progress
                    await self._show(request, render)
            if self.clock.now() > deadline:
                raise PermanentProviderError(
                    f"the provider did not finish within {self.config.render_timeout / 60:.0f} minutes"
                )
            polls += 1
            pushed = render.provider in self.config.push_providers
            # Providers that push completion (webhooks) are polled only as a safety net.
            start, cap = (
                (self.config.poll_cap, self.config.poll_cap * 6)
                if pushed
                else (self.config.poll_start, self.config.poll_cap)
            )
            await self._wait_for_poll(
                render.remote_id,
                # A pushed provider's hint would bring back the polling the webhook makes unnecessary.
                poll_interval(polls, start=start, cap=cap, hint=None if pushed else status.poll_after),
            )

    async def _wait_for_poll(self, remote_id: str, seconds: float) -> None:
        """Sleep until the next poll, or until a webhook says the remote job changed."""
        poke = self._pokes.setdefault(remote_id, asyncio.Event())
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waiter = asyncio.ensure_future(poke.wait())
        try:
            await asyncio.wait({sleeper, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waiter.cancel()
            poke.clear()

    def poke(self, remote_id: str) -> bool:
        """A provider pushed news about ``remote_id``: poll it now if this worker is waiting on it."""
        event = self._pokes.get(remote_id)
        if event is None:
            return False
        event.set()
        return True

    async def _download(self, render: Render, request: VideoRequest) -> None:
        assert render.remote_id is not None
        await self._show(request, render)
        dest = self.media.work_dir("downloads") / f"{render.id}.mp4"
        await self.providers.get(render.provider).download(render.remote_id, dest)
        render.clip_path = str(dest)
        render.status = advance_render(render.status, S.POSTPROCESSING)
        await self._save(
            render, audit=render_audit("render.downloaded", render, request, bytes=dest.stat().st_size)
        )

    async def _postprocess(self, render: Render, request: VideoRequest) -> None:
        await self._show(request, render)
        brief = await self.store.get_brief(render.brief_id)
        assert brief is not None and render.clip_path is not None
        processed = await self.post.process(render, brief, request, Path(render.clip_path))
        if processed.hard_failure and self.config.qc_regenerate_once and not await self._qc_retried(render):
            await self._regenerate_after_qc(render, request, processed.findings)
            return
        render.clip_path = str(processed.path)
        render.qc_findings = list(processed.findings)
        render.provenance_digest = processed.provenance_digest
        render.status = advance_render(render.status, S.READY)
        delivery = Delivery(
            id=new_id("dlv"),
            key=f"clip:{render.id}",
            request_id=request.id,
            platform=request.target.platform,
            kind="clip",
            payload={"render_id": render.id},
        )
        await self._save(
            render,
            audit=render_audit(
                "render.ready",
                render,
                request,
                cost_actual=render.cost_actual,
                qc_findings=render.qc_findings,
                provenance=render.provenance_digest,
            ),
            request_from=[R.RENDERING],
            request_to=R.IN_REVIEW,
            deliveries=[delivery],
        )

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
        if render.remote_id is None or render.cost_actual is None:
            render.cost_actual = 0.0 if render.remote_id is None or refused else render.cost_actual
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
