"""Luma generation callbacks, authenticated by a signed callback URL.

Luma posts the generation object to the ``callback_url`` given at create time when
the generation starts dreaming, completes or fails, and signs nothing. So clipdesk
signs the URL it hands out: ``…/webhooks/luma?key=<render key>&sig=<HMAC-SHA256 of
the key>`` with ``CLIPDESK_LUMA_WEBHOOK_SECRET``. A delivery whose URL does not
carry a valid signature is refused; a valid one only makes the worker poll that
generation now, so a leaked URL can cause one status call, never a state change.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from urllib.parse import urlencode

from adapters.providers.webhooks import InvalidWebhook, ProviderEvent

WEBHOOK_PATH = "/webhooks/luma"
FINISHED = frozenset({"completed", "failed"})


def _signature(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def signed_callback_url(base: str, secret: str, key: str) -> str:
    """The callback URL for one render: ``base`` plus the render key and its signature."""
    return f"{base}?{urlencode({'key': key, 'sig': _signature(secret, key)})}"


def verify_luma_callback(body: bytes, query: Mapping[str, str], secret: str) -> ProviderEvent:
    """Check the URL's signature and read the generation; raise :class:`InvalidWebhook` if either fails."""
    key, sig = query.get("key", ""), query.get("sig", "")
    if not key or not hmac.compare_digest(sig, _signature(secret, key)):
        raise InvalidWebhook("the callback URL is not one clipdesk signed")
    try:
        generation = json.loads(body)
        remote_id, state = str(generation["id"]), str(generation.get("state", ""))
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidWebhook("the body is not a Luma generation") from exc
    return ProviderEvent("luma", f"{remote_id}:{state}", remote_id, finished=state in FINISHED)


class LumaCallbackVerifier:
    """``verify(body, headers, query)`` for :func:`adapters.providers.webhooks.webhook_route`."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    async def __call__(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> ProviderEvent:
        return verify_luma_callback(body, query, self._secret)
