"""What every provider webhook comes down to: a verified event naming a remote job, or a refusal.

The verifiers (``fal_webhooks``, ``replicate_webhooks``, ``luma_webhooks``) are pure
in the sense the web layer needs: raw body bytes, headers and query in, a
:class:`ProviderEvent` or :class:`InvalidWebhook` out, with no framework types.
A delivery only tells the worker to poll that job now (``worker.poke(remote_id)``);
the provider's status stays the source of truth, so a lost or repeated delivery
costs at most one status call, and :class:`ReplayGuard` drops repeats of one
delivery within the signature window.

:func:`webhook_route` mounts a verifier on aiohttp (what ``clipdesk serve`` runs
today); a FastAPI route calls the same verifier with ``await request.body()``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300  # the Standard Webhooks replay window; fal uses the same


class InvalidWebhook(ValueError):
    """The delivery is not signed by the provider (or by us), is stale, or is malformed."""


@dataclass(frozen=True)
class ProviderEvent:
    """A verified delivery: which job changed, and whether it has finished."""

    provider: str
    delivery_id: str  # unique per delivery, for de-duplication
    remote_id: str  # the id the adapter's ``submit`` returned, as ``worker.poke`` expects it
    finished: bool


Verify = Callable[[bytes, Mapping[str, str], Mapping[str, str]], Awaitable[ProviderEvent | None]]
"""``verify(body, headers, query)``: the event, ``None`` for a delivery to ignore, or ``InvalidWebhook``."""

OnEvent = Callable[[ProviderEvent], Awaitable[None]]


class ReplayGuard:
    """Remembers delivery ids for the signature window, so a replayed delivery is dropped."""

    def __init__(self, window: float = TOLERANCE_SECONDS, limit: int = 10_000) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._window = window
        self._limit = limit

    def first_time(self, delivery_id: str) -> bool:
        """``True`` the first time ``delivery_id`` is seen within the window."""
        now = time.monotonic()
        while self._seen and (
            next(iter(self._seen.values())) < now - self._window or len(self._seen) >= self._limit
        ):
            self._seen.popitem(last=False)
        if delivery_id in self._seen:
            return False
        self._seen[delivery_id] = now
        return True


def webhook_route(path: str, provider: str, verify: Verify, on_event: OnEvent) -> web.RouteDef:
    """An aiohttp ``POST`` route: 400 for a delivery that does not verify (logged in one line,
    never the body), 200 for a verified one (once per delivery id), 500 when ``on_event``
    fails so the provider delivers it again."""
    guard = ReplayGuard()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event = await verify(body, request.headers, request.query)
        except InvalidWebhook as exc:
            log.warning("rejected a %s webhook from %s: %s", provider, request.remote, exc)
            return web.json_response({"error": "invalid webhook"}, status=400)
        if event is not None and guard.first_time(event.delivery_id):
            try:
                await on_event(event)
            except Exception:
                log.exception(
                    "handling %s webhook %s for %s failed", provider, event.delivery_id, event.remote_id
                )
                return web.json_response({"error": "not processed"}, status=500)
        return web.json_response({"ok": True})

    return web.post(path, receive)
