"""The REST API against ``clipdesk serve`` as a subprocess: the same use cases and rules as the chat."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import texts
from tests.e2e.paid_fakes import running
from tests.support.api_serve import Served, serve
from tests.support.cli_run import clipdesk
from tests.support.web import post_streaming

pytestmark = pytest.mark.timeout(240)
PROBLEM = "application/problem+json"


def assert_problem(code: int, headers: Mapping[str, str], body: Any, status: int) -> None:
    assert code == status, body
    assert headers["Content-Type"].startswith(PROBLEM)
    assert body["status"] == status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]


async def _open(
    served: Served, token: str, prompt: str = "a 4s demo of our steel bottle", **extra: Any
) -> str:
    code, headers, body = await served.call(
        "POST", "/api/v1/requests", token, {"prompt": prompt, "seconds": 4, **extra}
    )
    assert code == 202, body
    assert headers["Location"] == f"/api/v1/requests/{body['id']}"
    request_id: str = body["id"]
    return request_id


async def _declared_only(served: Served, path: str, size: int, token: str) -> str:
    """Send only the headers of a POST declaring ``size`` bytes; return the answer's head."""
    port = int(served.base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        return head.decode()
    finally:
        writer.close()


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_create_render_approve_with_scoped_tokens(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    # A priced provider (the OpenAI videos fake, through the real SDK), so the brief waits for Render.
    async with running("openai", tmp_path / "fake") as fake:
        settings = {
            "provider": "openai",
            "refiner": "offline",
            "moderation": "local",
            "poll_start_seconds": "0.1",
            "poll_cap_seconds": "0.2",
            **{k.lower(): v for k, v in fake.env().items()},
        }
        if database == "postgres":
            settings["database_url"] = str(request.getfixturevalue("postgres_url"))
        await _render_and_approve(tmp_path, settings)


async def _render_and_approve(tmp_path: Path, settings: dict[str, str]) -> None:
    async with serve(tmp_path, **settings) as served:
        writer = await served.token("T1", "U_BOT", "requests:read,requests:write")
        lead = await served.token("T1", "U_LEAD", "requests:read,reviews:decide")

        request_id = await _open(served, writer)
        waiting = await served.until_status(writer, request_id, "awaiting_confirmation")
        assert waiting["brief"]["version"] == 1 and waiting["brief"]["shots"]
        assert waiting["renders"] == []

        # The lead can decide but not steer: Render needs requests:write.
        code, headers, body = await served.call("POST", f"/api/v1/requests/{request_id}/render", lead)
        assert_problem(code, headers, body, 403)
        assert body["detail"] == texts.api_scope_missing("requests:write")

        code, _, body = await served.call("POST", f"/api/v1/requests/{request_id}/render", writer)
        assert code == 200, body
        assert body["status"] in ("queued", "rendering", "in_review")
        ready = await served.until_status(writer, request_id, "in_review")
        clip = ready["renders"][0]
        assert clip["status"] == "ready" and clip["clip_url"].startswith(served.base + "/media/clips/")
        async with aiohttp.ClientSession() as http, http.get(clip["clip_url"]) as r:
            assert r.status == 200 and (await r.read())[4:8] == b"ftyp"  # an MP4 behind the signed link

        # The writer's token has no reviews:decide: refused, and the request stays in review.
        code, headers, body = await served.call("POST", f"/api/v1/requests/{request_id}/approve", writer)
        assert_problem(code, headers, body, 403)
        assert await served.status_of(writer, request_id) == "in_review"

        code, _, body = await served.call("POST", f"/api/v1/requests/{request_id}/approve", lead, {})
        assert code == 200, body
        assert body["status"] == "approved"
        assert body["review"]["reviewer"] == "U_LEAD" and body["review"]["decision"] == "approved"
        approved = [e for e in body["audit"] if e["kind"] == "review.approved"]
        assert [e["actor"] for e in approved] == ["U_LEAD"]  # the token's actor id is in the audit
        assert body["audit"][0]["kind"] == "request.received" and body["audit"][0]["actor"] == "U_BOT"
        assert body["cost"]["estimate"] >= 0

        # A second decision is a conflict in the chat's words.
        code, headers, body = await served.call(
            "POST", f"/api/v1/requests/{request_id}/reject", lead, {"reason": "too dark"}
        )
        assert_problem(code, headers, body, 409)
        assert body["detail"].endswith("this request is already approved.")


async def test_idempotent_create_cross_workspace_and_scope_refusals(tmp_path: Path) -> None:
    async with serve(tmp_path) as served:
        writer = await served.token("T1", "U_BOT", "requests:read,requests:write")
        reader = await served.token("T1", "U_VIEW", "requests:read")
        other = await served.token("T2", "U_OTHER")

        ask = {"prompt": "a 4s demo of our bottle", "seconds": 4}
        key = {"Idempotency-Key": "order-42"}
        first = await served.call("POST", "/api/v1/requests", writer, ask, headers=key)
        again = await served.call("POST", "/api/v1/requests", writer, ask, headers=key)
        assert first[0] == again[0] == 202
        assert first[2]["id"] == again[2]["id"]
        assert again[1].get("Idempotent-Replayed") == "true"
        # Two at once with a new key still make one request.
        key2 = {"Idempotency-Key": "order-43"}
        both = await asyncio.gather(
            *(served.call("POST", "/api/v1/requests", writer, ask, headers=key2) for _ in range(2))
        )
        assert [b[0] for b in both] == [202, 202] and both[0][2]["id"] == both[1][2]["id"]
        # The same key with another body is refused, and records nothing.
        code, headers, body = await served.call(
            "POST", "/api/v1/requests", writer, {**ask, "prompt": "something else"}, headers=key
        )
        assert_problem(code, headers, body, 422)
        assert body["detail"] == texts.API_IDEMPOTENCY_REUSED
        code, _, page = await served.call("GET", "/api/v1/requests", writer)
        assert code == 200 and len(page["items"]) == 2

        request_id = first[2]["id"]
        await served.until_status(writer, request_id, "in_review")  # the animatic is free: it renders at once
        # Another workspace's token: the request does not exist for it, whatever it asks.
        for method, path, body_sent in [
            ("GET", f"/api/v1/requests/{request_id}", None),
            ("POST", f"/api/v1/requests/{request_id}/render", None),
            ("POST", f"/api/v1/requests/{request_id}/approve", None),
            ("POST", f"/api/v1/requests/{request_id}/cancel", None),
        ]:
            code, headers, body = await served.call(method, path, other, body_sent)
            assert_problem(code, headers, body, 404)
            assert body["detail"] == texts.NOT_FOUND
        code, _, page = await served.call("GET", "/api/v1/requests", other)
        assert code == 200 and page["items"] == []

        # A read-only token cannot write; nothing is recorded.
        code, headers, body = await served.call("POST", "/api/v1/requests", reader, ask)
        assert_problem(code, headers, body, 403)
        assert body["detail"] == texts.api_scope_missing("requests:write")
        code, headers, body = await served.call("POST", f"/api/v1/requests/{request_id}/cancel", reader)
        assert_problem(code, headers, body, 403)
        assert await served.status_of(writer, request_id) == "in_review"

        # The requester may cancel, but not a clip already in review: the chat's rule and words.
        code, headers, body = await served.call("POST", f"/api/v1/requests/{request_id}/cancel", writer)
        assert_problem(code, headers, body, 409)
        assert body["detail"] == texts.already("in_review", "cancel")


async def test_pagination_and_filters(tmp_path: Path) -> None:
    async with serve(tmp_path) as served:
        token = await served.token("T1", "U_BOT")
        second = await served.token("T1", "U_TWO")
        made = [await _open(served, token, f"a 4s demo number {i}") for i in range(5)]
        made.append(await _open(served, second, "a 4s demo by someone else"))
        for request_id in made:
            await served.until_status(token, request_id, "in_review")

        seen: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            path = "/api/v1/requests?limit=2" + (f"&cursor={cursor}" if cursor else "")
            code, _, page = await served.call("GET", path, token)
            assert code == 200, page
            seen += [item["id"] for item in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == 3 and seen == list(reversed(made))  # newest first, each once

        code, _, page = await served.call("GET", "/api/v1/requests?requester=U_TWO", token)
        assert [i["id"] for i in page["items"]] == [made[-1]]
        code, _, page = await served.call(
            "GET", "/api/v1/requests?status=in_review&status=approved&limit=100", token
        )
        assert len(page["items"]) == 6
        code, _, page = await served.call("GET", "/api/v1/requests?status=cancelled", token)
        assert page["items"] == []
        code, _, page = await served.call("GET", "/api/v1/requests?since=2999-01-01T00:00:00Z", token)
        assert page["items"] == []

        code, headers, body = await served.call("GET", "/api/v1/requests?cursor=bm90LWEtY3Vyc29y", token)
        assert_problem(code, headers, body, 400)
        assert body["detail"] == texts.API_BAD_CURSOR
        code, headers, body = await served.call("GET", "/api/v1/requests?limit=0", token)
        assert_problem(code, headers, body, 422)
        code, headers, body = await served.call("GET", "/api/v1/requests?status=nonsense", token)
        assert_problem(code, headers, body, 422)


async def test_bad_input_is_a_problem_document_and_records_nothing(tmp_path: Path) -> None:
    async with serve(tmp_path, api_rate_per_minute="600", api_rate_burst="200") as served:
        token = await served.token("T1", "U_BOT")
        create = "/api/v1/requests"

        code, headers, body = await served.call("POST", create, token, raw=b'{"prompt": "a bottle",')
        assert_problem(code, headers, body, 400)
        assert body["title"] == "Malformed JSON"
        code, headers, body = await served.call(
            "POST", create, token, {"prompt": "a bottle", "colour": "red"}
        )
        assert_problem(code, headers, body, 422)
        assert body["errors"][0]["field"] == "colour"
        code, headers, body = await served.call("POST", create, token, {"prompt": "a bottle", "seconds": "8"})
        assert_problem(code, headers, body, 422)
        assert body["errors"][0]["field"] == "seconds"
        code, headers, body = await served.call("POST", create, token, {"prompt": ""})
        assert_problem(code, headers, body, 422)
        code, headers, body = await served.call("POST", create, token, ["a bottle"])
        assert_problem(code, headers, body, 422)
        # The chat's own option checks, in the chat's words.
        code, headers, body = await served.call(
            "POST", create, token, {"prompt": "a bottle", "provider": "nope"}
        )
        assert_problem(code, headers, body, 422)
        assert "nope" in body["detail"]
        # A huge body is refused before it is read.
        status = await post_streaming(
            served.base + create,
            2 * 1024 * 1024,
            filler=b"x",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert status in (413, 0)
        # A declared size over the cap is answered at once, as a problem document, before any byte is read.
        head = await _declared_only(served, create, 2 * 1024 * 1024, token)
        assert head.startswith("HTTP/1.1 413") and "application/problem+json" in head.lower()

        # Missing, malformed and revoked tokens.
        code, headers, body = await served.call("GET", create, None)
        assert_problem(code, headers, body, 401)
        assert body["detail"] == texts.API_NO_TOKEN and headers["WWW-Authenticate"].startswith("Bearer")
        code, headers, body = await served.call("GET", create, "cdk_made_up")
        assert_problem(code, headers, body, 401)
        assert body["detail"] == texts.API_BAD_TOKEN
        doomed = await served.token("T1", "U_GONE")
        listed = await clipdesk(served.tmp, "tokens", "list", "--json", env=served.env)
        gone_id = (
            next(line for line in listed.out.splitlines() if '"U_GONE"' in line)
            .split('"id": "')[1]
            .split('"')[0]
        )
        revoked = await clipdesk(served.tmp, "tokens", "revoke", gone_id, env=served.env)
        assert revoked.code == 0, revoked.err
        code, headers, body = await served.call("GET", create, doomed)
        assert_problem(code, headers, body, 401)
        assert body["detail"] == texts.API_BAD_TOKEN
        listed = await clipdesk(served.tmp, "tokens", "list", env=served.env)
        assert "revoked" in listed.out and "cdk_" not in listed.out  # secrets are never listed

        # Unknown request, reject without a reason.
        code, headers, body = await served.call("GET", f"{create}/req_missing", token)
        assert_problem(code, headers, body, 404)
        assert body["detail"] == texts.NOT_FOUND
        code, headers, body = await served.call("POST", f"{create}/req_missing/reject", token, {"reason": ""})
        assert_problem(code, headers, body, 422)

        code, _, page = await served.call("GET", create, token)
        assert code == 200 and page["items"] == []  # none of the above recorded anything


async def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    async with serve(tmp_path, api_rate_per_minute="2", api_rate_burst="2") as served:
        token = await served.token("T1", "U_BOT", "requests:read")
        other = await served.token("T1", "U_OTHER", "requests:read")
        assert (await served.call("GET", "/api/v1/requests", token))[0] == 200
        assert (await served.call("GET", "/api/v1/requests", token))[0] == 200
        code, headers, body = await served.call("GET", "/api/v1/requests", token)
        assert_problem(code, headers, body, 429)
        assert int(headers["Retry-After"]) >= 1
        assert (await served.call("GET", "/api/v1/requests", other))[0] == 200  # per token


async def test_openapi_document_and_docs_page(tmp_path: Path) -> None:
    async with serve(tmp_path) as served:
        async with aiohttp.ClientSession() as http:
            async with http.get(served.base + "/api/v1/openapi.json") as r:
                doc = await r.json()
            async with http.get(served.base + "/api/docs") as r:
                assert r.status == 200 and "swagger" in (await r.text()).lower()
        paths = doc["paths"]
        for path in (
            "/api/v1/requests",
            "/api/v1/requests/{request_id}",
            "/api/v1/requests/{request_id}/approve",
            "/api/v1/webhooks",
        ):
            assert path in paths
        assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


async def test_the_api_takes_the_same_cut_draft_and_explainer_options_as_video(tmp_path: Path) -> None:
    async with serve(tmp_path) as served:
        token = await served.token("T1", "U_BOT")
        options = {"shots": 2, "draft": True, "audience": "age 14", "captions": "es"}
        request_id = await _open(served, token, "explain laminar flow", **{**options, "seconds": 8})
        code, _, body = await served.call("GET", f"/api/v1/requests/{request_id}", token)
        assert code == 200, body
        assert {key: body["options"][key] for key in options} == options

        for wrong in ({"shots": 0}, {"draft": "yes"}, {"captions": "!!"}):
            code, headers, problem = await served.call(
                "POST", "/api/v1/requests", token, {"prompt": "a 4s demo", **wrong}
            )
            assert_problem(code, headers, problem, 422)
