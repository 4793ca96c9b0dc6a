"""What every provider webhook comes down to: a verified event naming a remote job, or a refusal.

The verifiers (``fal_webhooks``, ``replicate_webhooks``, ``luma_webhooks``) are pure
in the sense the web layer needs: raw body bytes, headers and query in, a
:class:`ProviderEvent` or :class:`InvalidWebhook` out, with no framework types.
A delivery only tells the worker to poll that job now (``worker.poke(remote_id)``);
the provider's status stays the source of truth, so a lost or repeated delivery
costs at most one status call, and :class:`ReplayGuard` drops repeats of one
delivery within the signature window.

:func:`adapters.web.webhooks.engine_webhook_router` mounts a verifier on the web app.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

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
