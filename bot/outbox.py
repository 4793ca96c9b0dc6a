"""The outbox: every recorded event reaches each sink that wants it, once, even across crashes.

An event and its outbox entries are written in the same transaction as the
state change (see :mod:`bot.transitions`). :class:`Subscriptions` decides, when
the event is written, which sinks get an entry and on which route (the thread
presenter's route is the chat platform, so only a process that can speak it
posts). :class:`Deliverer` leases due entries, hands them to their sinks
concurrently within a limit, and retries with one :class:`RetryPolicy`; the
entry's key goes to the sink, which drops a repeat where the platform allows.

Each sink has its own lane: it claims only its own entries, as many as it has
free delivery slots, and claims again as soon as a slot frees. Claiming all
sinks' entries in one batch in commit order let 200 ``request.received``
webhook entries (delivered after an endpoints read each) fill every batch ahead
of the thread entries that open the threads, and a batch waited for its
slowest delivery before the next claim: a burst of asks waited seconds for
their first message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from bot import log_context
from bot.cancelling import being_cancelled
from bot.coalesce import Coalescer
from bot.domain_events import DomainEvent, event
from bot.errors import DeliveryRefused
from bot.event_kinds import TRANSIENT_KINDS
from bot.event_payloads import DeliveryAbandoned
from bot.ports.media import Clock
from bot.ports.storage import OutboxEntry, OutboxStore, UnitOfWork
from bot.retry import RetryPolicy

log = logging.getLogger(__name__)

# The running delivery's lease check (each delivery runs in its own task, so this is per delivery).
_FENCE: ContextVar[Callable[[], Awaitable[bool]] | None] = ContextVar("delivery_fence", default=None)


class DeliveryTakenOver(Exception):
    """This process's lease on the entry lapsed and another process has it now: stop, it delivers."""


async def hold_delivery() -> None:
    """Call right before an effect that cannot be undone (a post): it fences the delivery in.

    A live process can stall (a starved connection pool, a busy CPU) past its delivery lease; another
    process then takes the entry over and posts. A look-up of what is already posted cannot see a
    post that the other process is about to make, so the stalled one must not post at all: this
    renews the lease for another full term, or raises :class:`DeliveryTakenOver` if it is no longer
    ours. Outside a delivery (a sink called directly) it does nothing.
    """
    fence = _FENCE.get()
    if fence is not None and not await fence():
        raise DeliveryTakenOver("another process took this delivery over")


@dataclass(frozen=True)
class Subscription:
    """A sink's interest: ``route(event)`` is ``None`` (not wanted), ``""`` (any process) or a route name."""

    sink: str
    route: Callable[[DomainEvent], str | None]


class Subscriptions:
    """Which sinks get an outbox entry for an event; fixed at start-up, the same in every process."""

    def __init__(self, subscriptions: Sequence[Subscription] = ()) -> None:
        self._all = list(subscriptions)

    def add(self, subscription: Subscription) -> None:
        self._all.append(subscription)

    def entries_for(self, event: DomainEvent) -> list[tuple[str, str]]:
        """``(sink, route)`` for every sink that wants ``event``."""
        wanted: list[tuple[str, str]] = []
        for sub in self._all:
            route = sub.route(event)
            if route is not None:
                wanted.append((sub.sink, route))
        return wanted

    @staticmethod
    def audited(event: DomainEvent) -> bool:
        """Whether the audit log keeps ``event`` (progress ticks are shown, not kept)."""
        return event.kind not in TRANSIENT_KINDS


class Sink(Protocol):
    """Something that turns an outbox entry into an effect (a thread message, a webhook call)."""

    name: str

    @property
    def routes(self) -> Sequence[str] | None:
        """The routes this process can deliver (``None``: every route)."""
        ...

    async def deliver(self, entry: OutboxEntry) -> str | None:
        """Apply the entry; return a reference to what was made (a message ref), if any.

        Raise :class:`bot.errors.DeliveryRefused` for a refusal that no retry can change.
        """
        ...

    async def give_up(self, entry: OutboxEntry, error: str) -> None:
        """The entry will never be delivered: make that visible where it matters."""
        ...


@dataclass(frozen=True)
class DeliveryConfig:
    owner: str
    # Short, and renewed while a delivery runs: a process that dies gives its entries back soon.
    lease_seconds: float = 30.0
    batch: int = 32  # entries one claim of :meth:`Deliverer.drain` takes per sink
    # Deliveries one sink runs at once; a lane claims only what it can start, so no claimed entry
    # waits for a slot while its lease runs out. Room for a whole burst of asks: at 64 the 200
    # threads of a burst were opened in four rounds, each waiting for its slowest delivery.
    concurrency: int = 256
    retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(attempts=8, base=2.0, cap=600.0, never=(DeliveryRefused,))
    )


class Deliverer:
    def __init__(
        self,
        *,
        outbox: OutboxStore,
        uow: UnitOfWork,
        sinks: Sequence[Sink],
        clock: Clock,
        config: DeliveryConfig,
        rng: random.Random | None = None,
    ) -> None:
        self.outbox = outbox
        self.uow = uow
        self.sinks = {sink.name: sink for sink in sinks}
        self.clock = clock
        self.config = config
        self._rng = rng or random.Random()
        # Deliveries that finish together are recorded together (one transaction for a burst).
        self._marks: Coalescer[tuple[str, str | None], None] = Coalescer(self._mark_delivered, most=200)
        self._wakes: dict[str, asyncio.Event] = {}

    def add(self, sink: Sink) -> None:
        self.sinks[sink.name] = sink

    def wake(self, sinks: Iterable[str] | None = None) -> None:
        """New entries were committed (for ``sinks``; ``None``: any): deliver now, not at the next tick."""
        for name in self.sinks if sinks is None else sinks:
            self._woken(name).set()

    def _woken(self, sink: str) -> asyncio.Event:
        found = self._wakes.get(sink)
        if found is None:
            found = self._wakes[sink] = asyncio.Event()
        return found

    def serves(self, sink: str, route: str) -> bool:
        """Whether this process delivers entries of ``sink`` on ``route`` (``""``: any process)."""
        found = self.sinks.get(sink)
        if found is None:
            return False
        routes = found.routes
        return routes is None or route == "" or route in routes

    async def deliver_once(self) -> int:
        """Deliver every due entry this process has a sink for; return how many went out."""
        return (await self._round())[1]

    async def drain(self, *, rounds: int = 1000) -> int:
        """Deliver until nothing is due (tests, shutdown, the console); return how many went out.

        A failure counts as progress too: giving up on an entry may record the event that
        explains it (a thread that cannot be reached fails its request), which is due at once.
        """
        total = 0
        for _ in range(rounds):
            claimed, sent = await self._round()
            total += sent
            if not claimed:
                return total
        return total

    async def _round(self) -> tuple[int, int]:
        entries: list[OutboxEntry] = []
        for name in list(self.sinks):
            entries += await self._claim(name, min(self.config.batch, self._most(name)))
        if not entries:
            return 0, 0
        # Entries are heads of their request's queue, so delivering them together keeps each
        # request's order while one slow thread does not hold up the others.
        results = await asyncio.gather(*(self._deliver(entry) for entry in entries))
        return len(entries), sum(results)

    async def _claim(self, sink: str, limit: int) -> list[OutboxEntry]:
        found = self.sinks[sink]
        return await self.outbox.claim_entries(
            self.config.owner, self.clock.now(), self.config.lease_seconds, limit, [(sink, found.routes)]
        )

    async def run(self, *, tick: float) -> None:
        """Deliver forever, one lane per sink: at once when woken, else every ``tick`` seconds as a net."""
        async with asyncio.TaskGroup() as lanes:
            for name in list(self.sinks):
                lanes.create_task(self._lane(name, tick), name=f"deliver:{name}")
            if not self.sinks:
                await asyncio.Event().wait()  # nothing to deliver here, but run until stopped

    def _most(self, sink: str) -> int:
        """Deliveries ``sink`` runs at once, in a lane or a round of :meth:`drain`. A sink may ask for
        fewer than the deliverer's limit (outgoing webhooks: a burst of 200 started at once kept
        the event loop from the commits that open threads)."""
        return min(self.config.concurrency, getattr(self.sinks[sink], "concurrency", self.config.concurrency))

    async def _lane(self, sink: str, tick: float) -> None:
        wake = self._woken(sink)
        most = self._most(sink)
        running: set[asyncio.Task[int]] = set()

        def finished(task: asyncio.Task[int]) -> None:
            running.discard(task)
            wake.set()  # a slot is free, and the next entry of the same request may be due now
            if not task.cancelled() and (error := task.exception()) is not None:
                # Recording the outcome failed (the database): the lease lapses and it is retried.
                log.error("outbox delivery on %s failed", sink, exc_info=error)

        try:
            while True:
                wake.clear()
                free = most - len(running)
                if free > 0:
                    try:
                        entries = await self._claim(sink, free)
                    except Exception as exc:
                        if being_cancelled():  # a driver turned the stop's CancelledError into its own
                            raise asyncio.CancelledError from exc
                        log.exception("outbox delivery claim for %s failed", sink)
                        entries = []
                    for entry in entries:
                        task = asyncio.create_task(self._deliver(entry))
                        running.add(task)
                        task.add_done_callback(finished)
                # Woken by a commit (here or elsewhere) or a finished delivery, whichever comes first.
                # Not wait_for: on 3.11 it can swallow a cancel that lands as the wait ends, and the
                # lane (and the stop waiting for it) would run on forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(tick):
                        await wake.wait()
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def _deliver(self, entry: OutboxEntry) -> int:
        sink = self.sinks[entry.sink]
        source = entry.event  # each delivery runs in its own task: these fields stay in it
        log_context.bind(
            request_id=source.request_id,
            render_id=source.render_id,
            platform=source.platform,
            workspace=source.workspace,
            sink=entry.sink,
        )
        _FENCE.set(lambda: self._renew(entry))
        renewing = asyncio.create_task(self._keep_lease(entry))
        try:
            ref = await sink.deliver(entry)
        except DeliveryTakenOver:
            # Not a failure to count or retry: the entry is another process's now.
            log.warning("delivery %s was taken over by another process; leaving it to it", entry.key)
            return 0
        except Exception as exc:
            await self._failed(entry, sink, exc)
            return 0
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        await self._marks.submit((entry.id, ref))
        return 1

    async def settle(self) -> None:
        """Wait until every finished delivery is recorded (shutdown: before the store closes)."""
        for sink in self.sinks.values():
            # A sink may write what a delivery made in batches too (the threads it opened).
            settling = getattr(sink, "settle", None)
            if settling is not None:
                await settling()
        await self._marks.idle()

    async def _mark_delivered(self, done: Sequence[tuple[str, str | None]]) -> list[None]:
        await self.outbox.delivered_many(done, self.config.owner)
        return [None] * len(done)

    async def _renew(self, entry: OutboxEntry) -> bool:
        until = self.clock.now() + timedelta(seconds=self.config.lease_seconds)
        return await self.outbox.renew(entry.id, self.config.owner, until)

    async def _keep_lease(self, entry: OutboxEntry) -> None:
        every = max(self.config.lease_seconds / 3, 0.05)
        while True:
            await asyncio.sleep(every)
            try:
                if not await self._renew(entry):
                    return
            except Exception:  # a failed renewal must not end the renewing: try again next time
                log.warning("could not renew the lease of delivery %s", entry.key, exc_info=True)

    async def _failed(self, entry: OutboxEntry, sink: Sink, exc: Exception) -> None:
        # A sink may bring its own schedule (outgoing webhooks retry for hours, as Svix does).
        policy: RetryPolicy = getattr(sink, "retry", None) or self.config.retry
        attempts = entry.attempts + 1
        give_up = not policy.retries(exc) or policy.exhausted(attempts)
        delay = policy.delay(attempts, rng=self._rng)
        log.log(
            logging.WARNING if isinstance(exc, DeliveryRefused) else logging.ERROR,
            "delivery %s (%s, request %s) failed, attempt %d%s: %s",
            entry.key,
            entry.event.kind,
            entry.event.request_id,
            attempts,
            "; giving up" if give_up else "",
            exc,
            exc_info=not isinstance(exc, DeliveryRefused),
        )
        error = str(exc) or type(exc).__name__
        await self.outbox.delivery_failed(
            entry.id, self.config.owner, error, self.clock.now() + timedelta(seconds=delay), give_up
        )
        if not give_up:
            return
        abandoned = DeliveryAbandoned(key=entry.key, sink=entry.sink, error=error[:500])
        source = entry.event
        async with self.uow.transaction() as tx:
            await tx.record(
                event(abandoned, "clipdesk", request_id=source.request_id, at=self.clock.now()).with_scope(
                    source
                )
            )
        try:
            await sink.give_up(entry, error)
        except Exception:
            log.exception("sink %s could not report the abandoned delivery %s", sink.name, entry.key)
