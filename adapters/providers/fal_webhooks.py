"""fal completion webhooks: ED25519 signatures checked against fal's published key set.

fal signs each delivery with these headers (fal's webhook docs):
``X-Fal-Webhook-Request-Id``, ``X-Fal-Webhook-User-Id``, ``X-Fal-Webhook-Timestamp``
(Unix seconds) and ``X-Fal-Webhook-Signature`` (hex). The signed message is the
request id, user id, timestamp and the hex SHA-256 of the raw body, joined by
newlines. The public keys are a JWKS (``kty: OKP``, ``crv: Ed25519``, ``x`` in
base64url) at a URL that is configurable so tests serve their own; they are
cached for a day and fetched again when no cached key verifies (key rotation).

The body is ``{"request_id", "gateway_request_id", "status": "OK" | "ERROR",
"payload", "error"}``. clipdesk's remote id for fal is ``"{endpoint}|{request_id}"``;
the adapter puts the endpoint in the webhook URL's query (``?endpoint=…``), so the
event names the job exactly as the worker knows it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

import aiohttp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapters.providers.webhooks import TOLERANCE_SECONDS, InvalidWebhook, ProviderEvent

WEBHOOK_PATH = "/webhooks/fal"
JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"
KEYS_TTL_SECONDS = 24 * 3600

FetchKeys = Callable[[], Awaitable[Sequence[Ed25519PublicKey]]]


def keys_from_jwks(document: object) -> list[Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS document (other key types are skipped)."""
    keys: list[Ed25519PublicKey] = []
    entries = document.get("keys") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        raw = str(entry.get("x", ""))
        try:
            raw_key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            keys.append(Ed25519PublicKey.from_public_bytes(raw_key))
        except (ValueError, binascii.Error):
            continue
    return keys


def verify_signature(
    body: bytes, headers: Mapping[str, str], keys: Sequence[Ed25519PublicKey], *, now: float | None = None
) -> str:
    """Check one delivery's signature against ``keys``; return its request id.

    Raises:
        InvalidWebhook: a header is missing, the timestamp is outside five minutes, or no key verifies.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        request_id = lowered["x-fal-webhook-request-id"]
        user_id = lowered["x-fal-webhook-user-id"]
        timestamp = lowered["x-fal-webhook-timestamp"]
        signature = bytes.fromhex(lowered["x-fal-webhook-signature"])
    except KeyError as exc:
        raise InvalidWebhook(f"missing header {exc.args[0]}") from exc
    except ValueError as exc:
        raise InvalidWebhook("the signature is not hex") from exc
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError as exc:
        raise InvalidWebhook("the timestamp is not a number") from exc
    if age > TOLERANCE_SECONDS:
        raise InvalidWebhook(f"the timestamp is {age:.0f} s away from now")
    message = "\n".join([request_id, user_id, timestamp, hashlib.sha256(body).hexdigest()]).encode()
    for key in keys:
        try:
            key.verify(signature, message)
            return request_id
        except InvalidSignature:
            continue
    raise InvalidWebhook("no fal key verifies the signature")


def parse_event(body: bytes, request_id: str, endpoint: str) -> ProviderEvent:
    """The verified body as an event; ``endpoint`` comes from the webhook URL's query."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise InvalidWebhook("the body is not JSON") from exc
    if not isinstance(data, dict) or data.get("request_id") != request_id:
        raise InvalidWebhook("the body names another request than the signed headers")
    if not endpoint:
        raise InvalidWebhook("the webhook URL names no endpoint")
    delivery = f"{request_id}:{data.get('gateway_request_id', '')}:{data.get('status', '')}"
    return ProviderEvent("fal", delivery, f"{endpoint}|{request_id}", finished=True)


class FalWebhookVerifier:
    """Verifies fal deliveries, keeping fal's key set for a day (fetched again on a miss)."""

    def __init__(
        self, jwks_url: str = JWKS_URL, *, fetch: FetchKeys | None = None, timeout: float = 10.0
    ) -> None:
        self._url = jwks_url
        self._fetch = fetch or self._download
        self._timeout = timeout
        self._keys: Sequence[Ed25519PublicKey] = ()
        self._fetched = 0.0

    async def __call__(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> ProviderEvent:
        """``verify(body, headers, query)`` for :func:`adapters.providers.webhooks.webhook_route`."""
        fresh = time.monotonic() - self._fetched < KEYS_TTL_SECONDS
        try:
            request_id = verify_signature(body, headers, await self._current(refresh=not fresh))
        except InvalidWebhook:
            if not fresh or not self._keys:
                raise
            request_id = verify_signature(body, headers, await self._current(refresh=True))
        return parse_event(body, request_id, query.get("endpoint", ""))

    async def _current(self, *, refresh: bool) -> Sequence[Ed25519PublicKey]:
        if refresh or not self._keys:
            self._keys = await self._fetch()
            self._fetched = time.monotonic()
        return self._keys

    async def _download(self) -> Sequence[Ed25519PublicKey]:
        bounds = aiohttp.ClientTimeout(total=self._timeout)
        try:
            async with aiohttp.ClientSession(timeout=bounds) as session, session.get(self._url) as response:
                if response.status != 200:
                    raise InvalidWebhook(f"fal's key set answered {response.status}")
                return keys_from_jwks(await response.json(content_type=None))
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise InvalidWebhook(f"fal's key set could not be read: {exc!r}") from exc
