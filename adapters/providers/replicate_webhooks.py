"""Replicate prediction webhooks, verified in the Standard Webhooks format with the SDK's own check.

Replicate signs each delivery with ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature`` (``v1,<base64 HMAC-SHA256>`` of ``{id}.{timestamp}.{body}``
keyed by the account's ``whsec_…`` signing secret, from
``GET /v1/webhooks/default/secret``). ``replicate.webhooks.validate`` checks it,
with a five-minute tolerance; the body is the prediction, whose id is clipdesk's
remote id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from replicate.webhook import Webhooks, WebhookSigningSecret, WebhookValidationError

from adapters.providers.webhooks import TOLERANCE_SECONDS, InvalidWebhook, ProviderEvent

WEBHOOK_PATH = "/webhooks/replicate"
FINISHED = frozenset({"succeeded", "failed", "canceled"})


def verify_replicate_webhook(body: bytes, headers: Mapping[str, str], secret: str) -> ProviderEvent:
    """Verify one delivery and return its event.

    Raises:
        InvalidWebhook: missing headers, a stale timestamp, a bad signature or a body that is no prediction.
    """
    try:
        text = body.decode()
        Webhooks.validate(
            headers=dict(headers),
            body=text,
            secret=WebhookSigningSecret(key=secret),
            tolerance=TOLERANCE_SECONDS,
        )
    except (WebhookValidationError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidWebhook(str(exc) or type(exc).__name__) from exc
    try:
        prediction = json.loads(text)
        remote_id, status = str(prediction["id"]), str(prediction.get("status", ""))
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidWebhook("the body is not a prediction") from exc
    delivery = {k.lower(): v for k, v in headers.items()}["webhook-id"]
    return ProviderEvent("replicate", delivery, remote_id, finished=status in FINISHED)


class ReplicateWebhookVerifier:
    """``verify(body, headers, query)`` for :func:`adapters.providers.webhooks.webhook_route`."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    async def __call__(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> ProviderEvent:
        return verify_replicate_webhook(body, headers, self._secret)
