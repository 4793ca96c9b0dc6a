"""What every step of a render needs: the worker's settings, its ports, and lease-checked writes."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.domain import Render, RequestStatus, VideoRequest
from bot.domain_events import DomainEvent, about, event
from bot.errors import StorageFull, TransientProviderError
from bot.event_payloads import Payload, RenderProgress, RequestInReview
from bot.planner import Planner, ProviderRouter
from bot.ports.media import Clock, CutFinisher, MediaStore, PostProcessor
from bot.ports.storage import CutRepo, RenderQueue, RequestRepo, Tx, UnitOfWork
from bot.render_writes import RenderWrites, Step
from bot.retry import RetryPolicy
from bot.transitions import move_render, move_request


def render_seed(render_id: str) -> int:
    """A seed per render: a regenerate or a variant differs, a resumed render does not."""
    return int.from_bytes(hashlib.sha256(render_id.encode()).digest()[:4], "big") % 2**31


def facts(render: Render) -> dict[str, Any]:
    """What every render event says about its render (see :class:`bot.event_payloads.RenderFacts`)."""
    return {"provider": render.provider, "model": render.model, "attempt": render.attempts}


class LeaseLost(Exception):
    """Another worker took this render over (our lease expired); stop touching it."""


@dataclass(frozen=True)
class WorkerConfig:
    owner: str
    lease_seconds: float = 60.0
    concurrency: int = 2
    poll_start: float = 2.0
    poll_cap: float = 20.0
    render_timeout: float = 3600.0  # from submission, not from queueing
    call_timeout: float = 60.0  # any one provider call; a hung call frees the slot and the lease
    push_providers: frozenset[str] = frozenset()
    qc_regenerate_once: bool = True
    # Jobs one process runs at once on any one provider (the shots of a cut render in parallel
    # up to this many; rate limits and local CPU stay bounded).
    provider_concurrency: int = 4
    # Resource faults (a full disk) and provider hiccups retry on the same policy.
    retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(
            attempts=5, base=2.0, cap=300.0, retry_on=(TransientProviderError, StorageFull)
        )
    )


@dataclass
class RenderContext:
    """The ports one render uses; shared by every render a worker drives."""

    queue: RenderQueue
    uow: UnitOfWork
    requests: RequestRepo
    providers: ProviderRouter
    planner: Planner
    media: MediaStore
    post: PostProcessor
    clock: Clock
    config: WorkerConfig
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    pokes: dict[str, asyncio.Event] = field(default_factory=dict)
    cuts: CutRepo | None = None
    cutter: CutFinisher | None = None
    slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    writes: RenderWrites | None = None  # built on first use, over ``uow``

    def provider_slot(self, provider: str) -> asyncio.Semaphore:
        """The per-provider limit on jobs this process drives at once."""
        slot = self.slots.get(provider)
        if slot is None:
            slot = self.slots[provider] = asyncio.Semaphore(max(1, self.config.provider_concurrency))
        return slot

    @property
    def owner(self) -> str:
        return self.config.owner

    def event(self, render: Render, request: VideoRequest | None, payload: Payload) -> DomainEvent:
        if request is None:
            return event(
                payload, "clipdesk", request_id=render.request_id, render_id=render.id, at=self.clock.now()
            )
        return about(request, payload, render_id=render.id, at=self.clock.now())

    async def commit(self, render: Render, step: Step) -> None:
        """Write one step of ``render`` in a transaction it may share with other renders' steps
        that are ready at the same moment (see :mod:`bot.render_writes`)."""
        if self.writes is None:
            self.writes = RenderWrites(self.uow, alone=(LeaseLost,))
        await self.writes.write(render, step)

    async def written(self) -> None:
        """Wait until every step handed to :meth:`commit` so far is written (a stop waits for this
        before it gives leases back: a step of a cancelled render is still written, never half)."""
        if self.writes is not None:
            await self.writes.idle()

    async def save(self, render: Render, tx: Tx | None = None) -> None:
        """Write the render's fields while this worker holds its lease, else raise :class:`LeaseLost`."""
        if tx is None:
            await self.commit(render, lambda own: self.save(render, own))
            return
        render.updated_at = self.clock.now()
        if not await tx.save_render(render, self.owner):
            raise LeaseLost(render.id)

    async def move(
        self, tx: Tx, render: Render, request: VideoRequest | None, payload: Payload, *then: Payload
    ) -> None:
        """Move the render with its event (and ``then``'s, one write); :class:`LeaseLost` if another
        worker has it now."""
        render.updated_at = self.clock.now()
        events = [self.event(render, request, each) for each in (payload, *then)]
        if not await move_render(tx, render, *events, owner=self.owner):
            raise LeaseLost(render.id)

    async def commit_move(
        self, render: Render, request: VideoRequest | None, payload: Payload, *then: Payload
    ) -> None:
        """:meth:`move` in a transaction of its own (shared with other renders' steps)."""
        await self.commit(render, lambda tx: self.move(tx, render, request, payload, *then))

    async def commit_ready(self, render: Render, request: VideoRequest, ready: Payload) -> None:
        """Move the render to ready and its request, if still rendering, to review: one step."""

        async def step(tx: Tx) -> None:
            await self.move(tx, render, request, ready)
            if request.status in (RequestStatus.RENDERING, RequestStatus.QUEUED):
                in_review = self.event(render, request, RequestInReview(render_id=render.id))
                await move_request(tx, request, in_review, expected=(RequestStatus.RENDERING,))

        await self.commit(render, step)

    async def progress(self, render: Render, request: VideoRequest) -> None:
        """Save a step within a state (progress, status text) and let the thread show it."""

        async def step(tx: Tx) -> None:
            await self.save(render, tx)
            shown = RenderProgress(**facts(render), status=render.status.value, progress=render.progress)
            await tx.record(self.event(render, request, shown))

        await self.commit(render, step)
