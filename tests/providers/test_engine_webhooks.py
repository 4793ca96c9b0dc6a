"""Webhook verification for fal (ED25519 + JWKS), Replicate (Standard Webhooks) and Luma (signed URL),
and the web route that turns a verified delivery into one poke."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from adapters.providers.fal_webhooks import FalWebhookVerifier, keys_from_jwks, verify_signature
from adapters.providers.luma_webhooks import signed_callback_url, verify_luma_callback
from adapters.providers.replicate_webhooks import verify_replicate_webhook
from adapters.providers.webhooks import InvalidWebhook, ProviderEvent
from adapters.web.refusals import RefusalLog
from adapters.web.webhooks import engine_webhook_router
from tests.fakes.fal import FakeFal
from tests.fakes.openai import sign_webhook
from tests.fakes.replicate import FakeReplicate
from tests.support.web import serving

ENDPOINT = "fal-ai/kling-video/v2.1/standard/image-to-video"


def fal_delivery(key: Ed25519PrivateKey, *, stamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"request_id": "req-1", "gateway_request_id": "req-1", "status": "OK", "payload": {}})
    raw = body.encode()
    ts = str(int(time.time()) if stamp is None else stamp)
    message = "\n".join(["req-1", "user-1", ts, hashlib.sha256(raw).hexdigest()]).encode()
    headers = {
        "X-Fal-Webhook-Request-Id": "req-1",
        "X-Fal-Webhook-User-Id": "user-1",
        "X-Fal-Webhook-Timestamp": ts,
        "X-Fal-Webhook-Signature": key.sign(message).hex(),
    }
    return raw, headers


@pytest.fixture
async def fal() -> AsyncIterator[FakeFal]:
    async with FakeFal() as fake:
        yield fake


async def test_a_fal_delivery_signed_with_a_published_key_names_the_job_as_clipdesk_knows_it(
    fal: FakeFal,
) -> None:
    body, headers = fal_delivery(fal.signing_key)
    event = await FalWebhookVerifier(fal.jwks_url)(body, headers, {"endpoint": ENDPOINT})
    assert event == ProviderEvent("fal", event.delivery_id, f"{ENDPOINT}|req-1", finished=True)


@pytest.mark.parametrize("problem", ["other_key", "tampered", "stale", "missing_header"])
async def test_a_fal_delivery_that_does_not_verify_is_refused(fal: FakeFal, problem: str) -> None:
    key = Ed25519PrivateKey.generate() if problem == "other_key" else fal.signing_key
    body, headers = fal_delivery(key, stamp=int(time.time()) - 3600 if problem == "stale" else None)
    if problem == "tampered":
        body = body.replace(b'"OK"', b'"ERROR"')
    if problem == "missing_header":
        del headers["X-Fal-Webhook-Signature"]
    with pytest.raises(InvalidWebhook):
        await FalWebhookVerifier(fal.jwks_url)(body, headers, {"endpoint": ENDPOINT})


async def test_fal_keys_are_fetched_again_when_the_cached_set_no_longer_verifies(fal: FakeFal) -> None:
    verifier = FalWebhookVerifier(fal.jwks_url)
    await verifier(*fal_delivery(fal.signing_key), {"endpoint": ENDPOINT})
    await verifier(*fal_delivery(fal.signing_key), {"endpoint": ENDPOINT})
    assert fal.jwks_fetches == 1  # cached
    fal.signing_key = Ed25519PrivateKey.generate()  # fal rotated its key
    await verifier(*fal_delivery(fal.signing_key), {"endpoint": ENDPOINT})
    assert fal.jwks_fetches == 2
    assert keys_from_jwks({"keys": [{"kty": "RSA"}, {"kty": "OKP", "crv": "Ed25519", "x": "!!"}]}) == []
    with pytest.raises(InvalidWebhook, match="no fal key"):
        verify_signature(*fal_delivery(Ed25519PrivateKey.generate()), [fal.signing_key.public_key()])


async def test_a_replicate_delivery_is_verified_with_the_signing_secret() -> None:
    async with FakeReplicate() as rep:
        body = json.dumps({"id": "p1", "status": "succeeded", "output": "https://x/y.mp4"})
        stamp = int(time.time())
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign_webhook(rep.webhook_secret, "msg_1", stamp, body),
        }
        event = verify_replicate_webhook(body.encode(), headers, rep.webhook_secret)
        assert (event.remote_id, event.finished, event.delivery_id) == ("p1", True, "msg_1")
        with pytest.raises(InvalidWebhook):
            verify_replicate_webhook(body.replace("p1", "p2").encode(), headers, rep.webhook_secret)
        stale = {**headers, "webhook-timestamp": str(stamp - 3600)}
        with pytest.raises(InvalidWebhook):
            verify_replicate_webhook(body.encode(), stale, rep.webhook_secret)


def test_a_luma_callback_is_accepted_only_on_a_url_clipdesk_signed() -> None:
    url = signed_callback_url("https://clipdesk.example/webhooks/luma", "s3cret", "rnd_1:1")
    query = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))
    query["key"] = query["key"].replace("%3A", ":")
    body = json.dumps({"id": "gen-1", "state": "completed"}).encode()
    assert verify_luma_callback(body, query, "s3cret").remote_id == "gen-1"
    with pytest.raises(InvalidWebhook):
        verify_luma_callback(body, {**query, "key": "rnd_2:1"}, "s3cret")
    with pytest.raises(InvalidWebhook):
        verify_luma_callback(b"<html>", query, "s3cret")


async def test_the_route_answers_400_to_a_bad_delivery_and_pokes_once_per_delivery(fal: FakeFal) -> None:
    poked: list[str] = []

    async def on_event(event: ProviderEvent) -> None:
        poked.append(event.remote_id)

    app = FastAPI()
    verifier = FalWebhookVerifier(fal.jwks_url)
    app.include_router(engine_webhook_router("/hook", "fal", verifier, on_event, RefusalLog()))
    async with serving(app) as base:
        body, headers = fal_delivery(fal.signing_key)
        async with aiohttp.ClientSession() as session:
            url = f"{base}/hook?endpoint={ENDPOINT}"
            for _ in range(3):  # one delivery, replayed
                async with session.post(url, data=body, headers=headers) as response:
                    assert response.status == 200
            async with session.post(url, data=b"{}", headers={}) as response:
                assert response.status == 400
        assert poked == [f"{ENDPOINT}|req-1"]
