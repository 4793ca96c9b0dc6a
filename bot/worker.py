"""The render worker: claim leased renders whenever a slot is free, drive each, keep their leases alive.

Several workers (processes or replicas) share one queue: claims are leases in
the database, renewed by a heartbeat while a render is driven. A worker claims
as soon as a slot frees or it is woken (a render was queued), and on a tick as
a safety net. On a graceful stop it takes no new work, lets running renders
reach a saved state within a grace period, and gives back the leases of the
ones it will not finish, so another worker resumes them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from datetime import timedelta

from bot import log_context
from bot.cancelling import being_cancelled
from bot.ports.storage import ClaimedWork
from bot.render_batch import claim
from bot.render_context import RenderContext, WorkerConfig
from bot.render_run import run_render

log = logging.getLogger(__name__)


class RenderWorker:
    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._stopping = False

    @property
    def config(self) -> WorkerConfig:
        return self.ctx.config

    @config.setter
    def config(self, config: WorkerConfig) -> None:
        self.ctx.config = config

    @property
    def busy(self) -> int:
        return len(self._tasks)

    def wake(self) -> None:
        """A render was queued or a slot freed: claim now rather than at the next tick."""
        self._wake.set()

    async def claim_once(self) -> int:
        """Claim as many renders as there are free slots and start driving them."""
        free = self.config.concurrency - len(self._tasks)
        if free <= 0 or self._stopping:
            return 0
        claims = await claim(self.ctx, free)
        for each in claims:
            if each.render.id in self._tasks:
                # Our own lease lapsed while we were still driving it (a stall) and we claimed it
                # back: one driver is enough, and the claim has just renewed its lease.
                log.warning("render %s is already being driven here; not starting it twice", each.render.id)
                continue
            self._start(each)
        return len(claims)

    async def run(self, *, tick: float) -> None:
        """Claim forever: when woken or a slot frees, else every ``tick`` seconds."""
        while not self._stopping:
            self._wake.clear()
            try:
                claimed = await self.claim_once()
            except Exception as exc:
                if being_cancelled():  # a driver turned the stop's CancelledError into its own error
                    raise asyncio.CancelledError from exc
                log.exception("claiming renders failed")
                claimed = 0
            if claimed and self.busy < self.config.concurrency:
                continue  # there may be more due work and room for it
            # Not wait_for: its extra task made a woken worker start after the deliverer's lanes
            # woken by the same commit, and an idle worker's claim queued behind their reads.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(tick):
                    await self._wake.wait()

    async def drain(self) -> None:
        """Wait for every render this worker is driving."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def stop(self, grace: float = 0.0) -> None:
        """Stop taking work; give running renders ``grace`` seconds, then release what is left."""
        self._stopping = True
        self._wake.set()
        if self._tasks and grace > 0:
            await asyncio.wait(list(self._tasks.values()), timeout=grace)
        left = dict(self._tasks)
        for task in left.values():
            task.cancel()
        await asyncio.gather(*left.values(), return_exceptions=True)
        await self.ctx.written()
        for render_id in left:
            with contextlib.suppress(Exception):
                await self.ctx.queue.release_lease(render_id, self.config.owner)
        if left:
            log.warning("gave back %d render(s) for another worker: %s", len(left), sorted(left))

    async def reap(self) -> list[str]:
        """Free renders whose worker stopped renewing the lease, so another can resume them."""
        reaped = await self.ctx.queue.reap_expired_leases(self.ctx.clock.now())
        for render_id in reaped:
            log.warning("reaped render %s: its worker stopped renewing the lease", render_id)
        if reaped:
            self.wake()
        return reaped

    def poke(self, remote_id: str) -> bool:
        """A provider pushed news about ``remote_id``: poll it now if this worker is waiting on it."""
        event = self.ctx.pokes.get(remote_id)
        if event is None:
            return False
        event.set()
        return True

    # ------------------------------------------------------------------ internals

    def _start(self, claim: ClaimedWork) -> None:
        render = claim.render
        task = asyncio.create_task(self._run(claim), name=f"render:{render.id}")
        self._tasks[render.id] = task
        task.add_done_callback(functools.partial(self._finished, render.id))

    def _finished(self, render_id: str, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(render_id, None)
        self._wake.set()  # a slot is free: claim again at once

    async def _run(self, claim: ClaimedWork) -> None:
        render = claim.render
        # This task's log lines name the render (the task's context is its own).
        log_context.bind(request_id=render.request_id, render_id=render.id, provider=render.provider)
        log.info("driving render %s (%s, attempt %d)", render.id, render.status.value, render.attempts + 1)
        heartbeat = asyncio.create_task(self._heartbeat(render.id))
        try:
            await run_render(self.ctx, claim)
            log.info("render %s is %s", render.id, render.status.value)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self, render_id: str) -> None:
        interval = max(self.config.lease_seconds / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            until = self.ctx.clock.now() + timedelta(seconds=self.config.lease_seconds)
            if not await self.ctx.queue.renew_lease(render_id, self.config.owner, until):
                log.warning("could not renew the lease on %s", render_id)
                return
