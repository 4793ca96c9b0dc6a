"""The render worker: claim leased renders, drive them on their provider, hand results to the outbox.

Every step is written to the store before the next one starts, and every
write checks that this worker still holds the lease. The remote id is saved
before the first status poll, so a worker that dies mid-render is replaced by
one that resumes polling the same remote job instead of paying for a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.backoff import poll_interval
from bot.chat import ChatRouter
from bot.domain import (
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
from bot.lifecycle import advance_render
from bot.outcomes import LeaseLost, RenderOutcomes, WorkerConfig, render_audit, render_seed
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


class RenderWorker(RenderOutcomes):
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
