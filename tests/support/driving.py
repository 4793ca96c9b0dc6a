"""The one way tests drive a clipdesk app until a request settles: worker and outbox, under a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from adapters.runtime.container import App
from bot.domain import RequestStatus, VideoRequest


async def run_until(
    app: App, request_id: str, states: Sequence[RequestStatus], *, seconds: float = 120.0
) -> VideoRequest:
    """Claim, render and deliver until the request is in one of ``states`` with nothing left in flight.

    The deadline is generous (a loaded machine slows a test down instead of failing it); nothing
    here measures time, and no loop is bounded by a count of ticks.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        await app.worker.claim_once()
        await app.deliverer.drain()
        request = await app.store.requests.get_request(request_id)
        assert request is not None, f"{request_id} does not exist"
        # Settled: the state is reached, nothing is rendering, and every message is out (a deliverer
        # loop of the same app may be the one posting them).
        if request.status in states and not app.worker.busy and not await app.store.outbox.pending():
            return request
        if loop.time() > deadline:
            raise AssertionError(f"{request_id} never reached {list(states)}; it is {request.status}")
        await asyncio.sleep(0.01)
