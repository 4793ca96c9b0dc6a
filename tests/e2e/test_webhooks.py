"""Outgoing webhooks from ``clipdesk serve`` to a local subscriber, verified with ``standardwebhooks``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from bot import texts
from tests.fakes.webhook_receiver import Received, WebhookReceiver
from tests.ops.test_metrics import scrape, value
from tests.support.api_serve import Served, serve
from tests.support.cli_run import clipdesk
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(240)
FAST = {"webhook_allow_private": "true", "webhook_retry_schedule": "0.2,0.2,0.2"}


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    r = WebhookReceiver()
    await r.start()
    yield r
    await r.close()


async def _subscribe(served: Served, token: str, url: str, events: list[str] | None = None) -> dict[str, Any]:
    code, _, body = await served.call("POST", "/api/v1/webhooks", token, {"url": url, "events": events or []})
    assert code == 201, body
    assert body["secret"].startswith("whsec_")
    created: dict[str, Any] = body
    return created


def _verified(secret: str, got: Received) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(got.body, got.headers)
    return payload


async def _received(receiver: WebhookReceiver, count: int) -> list[Received]:
    async def enough() -> list[Received] | None:
        return list(receiver.received) if len(receiver.received) >= count else None

    found: list[Received] = await wait_for(enough, seconds=90)
    return found


async def test_every_event_is_signed_and_verifies(tmp_path: Path, receiver: WebhookReceiver) -> None:
    async with serve(tmp_path, **FAST) as served:
        token = await served.token("T1", "U_BOT")
        lead = await served.token("T1", "U_LEAD", "requests:read,reviews:decide")
        hook = await _subscribe(served, token, receiver.url)

        code, _, made = await served.call(
            "POST", "/api/v1/requests", token, {"prompt": "a 4s demo", "seconds": 4}
        )
        assert code == 202
        await served.until_status(token, made["id"], "in_review")
        code, _, _ = await served.call("POST", f"/api/v1/requests/{made['id']}/approve", lead)
        assert code == 200

        got = await _received(receiver, 4)
        messages = [_verified(hook["secret"], g) for g in got]
        kinds = [m["type"] for m in messages]
        assert kinds == ["request.created", "brief.ready", "render.ready", "request.approved"]
        assert all(m["data"]["request_id"] == made["id"] for m in messages)
        assert len({g.headers["webhook-id"] for g in got}) == 4
        ready = messages[2]["data"]
        assert ready["clip_url"].startswith(served.base + "/media/clips/")
        async with aiohttp.ClientSession() as http, http.get(ready["clip_url"]) as r:
            assert r.status == 200 and (await r.read())[4:8] == b"ftyp"
        assert messages[3]["data"]["reviewer"] == "U_LEAD" and messages[3]["data"]["clip_url"]
        # A forged or altered delivery does not verify.
        tampered = Received(got[0].headers, got[0].body.replace(b"request.created", b"request.forged"), 200)
        with pytest.raises(WebhookVerificationError):
            Webhook(hook["secret"]).verify(tampered.body, tampered.headers)

        code, _, deliveries = await served.call("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", token)
        assert code == 200 and len(deliveries) == 4
        assert all(d["ok"] and d["status_code"] == 200 for d in deliveries)


async def test_500_500_200_delivers_three_times_with_one_webhook_id(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    receiver.answers.extend([500, 500])
    async with serve(tmp_path, **FAST) as served:
        token = await served.token("T1", "U_BOT")
        hook = await _subscribe(served, token, receiver.url, ["request.created"])
        code, _, made = await served.call("POST", "/api/v1/requests", token, {"prompt": "a 4s demo"})
        assert code == 202
        got = await _received(receiver, 3)
        assert [g.answered for g in got] == [500, 500, 200]
        assert len({g.headers["webhook-id"] for g in got}) == 1
        for g in got:
            assert _verified(hook["secret"], g)["data"]["request_id"] == made["id"]

        async def three_recorded() -> list[dict[str, Any]] | None:
            _, _, rows = await served.call("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", token)
            return rows if len(rows) == 3 else None

        rows = list(reversed(await wait_for(three_recorded)))
        assert [(r["attempt"], r["status_code"], r["ok"]) for r in rows] == [
            (1, 500, False),
            (2, 500, False),
            (3, 200, True),
        ]
        assert {r["message_id"] for r in rows} == {got[0].headers["webhook-id"]}
        code, _, endpoint = await served.call("GET", f"/api/v1/webhooks/{hook['id']}", token)
        assert endpoint["enabled"] is True
        # Each attempt is counted by its outcome on the process that made it.
        samples = await scrape(served.base + "/metrics")
        assert value(samples, "clipdesk_webhook_deliveries_total", outcome="failed") == 2
        assert value(samples, "clipdesk_webhook_deliveries_total", outcome="delivered") == 1
        assert value(samples, "clipdesk_webhook_deliveries_total", outcome="abandoned") == 0


async def test_410_gone_disables_the_endpoint_and_the_audit_says_so(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    receiver.answers.append(410)
    async with serve(tmp_path, **FAST) as served:
        token = await served.token("T1", "U_BOT")
        hook = await _subscribe(served, token, receiver.url)
        _code, _, made = await served.call(
            "POST", "/api/v1/requests", token, {"prompt": "a 4s demo", "seconds": 4}
        )
        await served.until_status(token, made["id"], "in_review")

        async def disabled() -> dict[str, Any] | None:
            _, _, body = await served.call("GET", f"/api/v1/webhooks/{hook['id']}", token)
            return body if body["enabled"] is False else None

        endpoint = await wait_for(disabled)
        assert "410" in endpoint["disabled_reason"]
        # request.created got 410; brief.ready and render.ready never went out.
        assert [g.answered for g in receiver.received] == [410]
        audit = await clipdesk(served.tmp, "audit", "export", env=served.env)
        rows = [json.loads(line) for line in audit.out.splitlines()]
        assert any(r["kind"] == "webhook.disabled" and r["data"]["endpoint_id"] == hook["id"] for r in rows)


async def test_sustained_failure_and_a_hanging_subscriber_disable_the_endpoint(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    receiver.hang_seconds = 3.0
    settings = {**FAST, "webhook_timeout_seconds": "0.5", "webhook_disable_after_hours": "0.0001"}
    async with serve(tmp_path, **settings) as served:
        token = await served.token("T1", "U_BOT")
        hook = await _subscribe(served, token, receiver.url, ["request.created"])
        await served.call("POST", "/api/v1/requests", token, {"prompt": "a 4s demo"})

        async def disabled() -> dict[str, Any] | None:
            _, _, body = await served.call("GET", f"/api/v1/webhooks/{hook['id']}", token)
            return body if body["enabled"] is False else None

        endpoint = await wait_for(disabled)
        assert endpoint["disabled_reason"].startswith("failing since")
        _, _, rows = await served.call("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", token)
        assert rows and all(not r["ok"] and "no answer within 0.5 s" in r["error"] for r in rows)


async def test_private_targets_are_refused_unless_the_operator_allows(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    async with serve(tmp_path) as served:
        token = await served.token("T1", "U_BOT")
        for url in (
            receiver.url,
            "http://10.0.0.8/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:9/x",
        ):
            code, headers, body = await served.call("POST", "/api/v1/webhooks", token, {"url": url})
            assert code == 422, (url, body)
            assert headers["Content-Type"].startswith("application/problem+json")
            assert body["detail"].startswith(texts.webhook_target_refused("")[:30])
        code, headers, body = await served.call(
            "POST", "/api/v1/webhooks", token, {"url": "ftp://example.com/x"}
        )
        assert code == 422
        code, headers, body = await served.call(
            "POST", "/api/v1/webhooks", token, {"url": receiver.url, "events": ["nope"]}
        )
        assert code == 422
        code, _, listed = await served.call("GET", "/api/v1/webhooks", token)
        assert listed == []  # nothing was recorded


async def test_rotation_signs_with_both_secrets_and_endpoints_are_per_workspace(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    async with serve(tmp_path, **FAST) as served:
        token = await served.token("T1", "U_BOT")
        other = await served.token("T2", "U_OTHER")
        hook = await _subscribe(served, token, receiver.url, ["request.created"])
        code, _, rotated = await served.call("POST", f"/api/v1/webhooks/{hook['id']}/rotate", token)
        assert code == 200 and rotated["secret"] != hook["secret"]
        # Another workspace cannot see, rotate or delete it, and its requests do not reach it.
        assert (await served.call("GET", f"/api/v1/webhooks/{hook['id']}", other))[0] == 404
        assert (await served.call("DELETE", f"/api/v1/webhooks/{hook['id']}", other))[0] == 404
        assert (await served.call("GET", "/api/v1/webhooks", other))[2] == []
        await served.call("POST", "/api/v1/requests", other, {"prompt": "their own demo"})
        code, _, made = await served.call("POST", "/api/v1/requests", token, {"prompt": "a 4s demo"})

        (got,) = await _received(receiver, 1)
        assert len(got.headers["webhook-signature"].split(" ")) == 2
        assert _verified(rotated["secret"], got)["data"]["request_id"] == made["id"]
        assert _verified(hook["secret"], got)["data"]["request_id"] == made["id"]  # the old one, mid-rotation

        assert (await served.call("DELETE", f"/api/v1/webhooks/{hook['id']}", token))[0] == 204
        assert (await served.call("GET", "/api/v1/webhooks", token))[2] == []
