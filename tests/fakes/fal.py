"""A local fake of fal.ai's queue API as ``fal-client`` calls it, with signed completion webhooks.

Wire shapes read from fal-client 1.0 (``client.py``: ``AsyncClient.submit``,
``AsyncRequestHandle.status/get/cancel``, ``_BaseRequestHandle._parse_status``)
and fal's queue and webhook docs:

* ``POST /{endpoint}?fal_webhook=…`` (``Authorization: Key …``, JSON arguments) →
  ``{"request_id", "gateway_request_id", "response_url", "status_url", "cancel_url",
  "queue_position"}``; the URLs are ``/{owner}/{alias}/requests/{id}[/status|/cancel]``.
* ``GET …/requests/{id}/status`` walks ``IN_QUEUE`` → ``IN_PROGRESS`` → ``COMPLETED``
  one step per poll (``logs`` and ``metrics`` as fal sends them; ``error`` and
  ``error_type`` on a failed request).
* ``GET …/requests/{id}`` → ``{"video": {"url", "content_type", "file_name", "file_size"}}``.
* ``PUT …/requests/{id}/cancel`` → 202 ``CANCELLATION_REQUESTED`` (400 ``ALREADY_COMPLETED``).
* ``GET /files/{id}.mp4`` serves the clip (no key: fal's CDN links are public).
* ``GET /.well-known/jwks.json`` publishes the fake's ED25519 key; :meth:`FakeFal.send_webhook`
  signs a delivery with it the way fal does.

Clips are real MP4s as long as asked and of the asked aspect, but tiny. Every request is
recorded in :attr:`calls`; failure switches are plain attributes (and :attr:`faults`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.fakes.faults import CreateFaults
from tests.fakes.loopback import LoopbackServer
from tests.fakes.media import ClipCache

POLICY_MESSAGE = "The prompt was flagged by the content checker."
STEPS = ("IN_QUEUE", "IN_PROGRESS", "COMPLETED")


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class FalRequest:
    id: str
    endpoint: str
    arguments: dict[str, Any]
    webhook: str | None
    polls: int = 0
    cancelled: bool = False

    @property
    def app(self) -> str:
        owner, alias = self.endpoint.split("/")[:2]
        return f"{owner}/{alias}"


@dataclass
class FakeFal:
    """fal's queue, its CDN and its webhook key set.

    Attributes a test may flip at any time:
        steps: polls before a request reports COMPLETED (``HOLD``-large: never).
        rate_limit: the next N requests answer 429 with ``Retry-After``.
        down: every queue request answers 503.
        refuse_prompt: submits answer 422 ``content_policy_violation``.
        refuse_while_rendering: requests complete with a content-policy error.
        image_output: results carry ``images`` instead of a ``video``.
    """

    key: str = "fal-test-key"
    user_id: str = "user-123"
    steps: int = 2
    retry_after: float = 2.0
    rate_limit: int = 0
    down: bool = False
    refuse_prompt: bool = False
    refuse_while_rendering: bool = False
    image_output: bool = False
    calls: list[Call] = field(default_factory=list)
    jwks_fetches: int = 0
    requests: dict[str, FalRequest] = field(default_factory=dict)
    faults: CreateFaults = field(default_factory=CreateFaults)
    signing_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    _server: LoopbackServer = field(default_factory=LoopbackServer)
    _clips: ClipCache = field(default_factory=lambda: ClipCache("fakefal_"))

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/.well-known/jwks.json"

    async def start(self) -> FakeFal:
        app = web.Application()
        app.router.add_get("/.well-known/jwks.json", self._jwks)
        app.router.add_get("/files/{id}.mp4", self._file)
        app.router.add_route("*", "/{path:.+}", self._queue)
        await self._server.open(app, "fakefal_")
        return self

    async def stop(self) -> None:
        self.faults.release_hangs()
        await self._server.close()
        self._clips.close()

    async def __aenter__(self) -> FakeFal:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def submits(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST"]

    def api_calls(self) -> list[Call]:
        return [c for c in self.calls if not c.path.startswith(("/files/", "/.well-known/"))]

    # ------------------------------------------------------------------ webhooks

    async def send_webhook(self, url: str, request_id: str, *, tamper: bool = False) -> int:
        """Sign and POST the completion of ``request_id`` to ``url`` the way fal does."""
        request = self.requests[request_id]
        body = json.dumps(
            {
                "request_id": request_id,
                "gateway_request_id": request_id,
                "status": "OK",
                "payload": await self._result_body(request),
            }
        ).encode()
        timestamp = str(int(time.time()))
        message = "\n".join([request_id, self.user_id, timestamp, hashlib.sha256(body).hexdigest()])
        headers = {
            "Content-Type": "application/json",
            "X-Fal-Webhook-Request-Id": request_id,
            "X-Fal-Webhook-User-Id": self.user_id,
            "X-Fal-Webhook-Timestamp": timestamp,
            "X-Fal-Webhook-Signature": self.signing_key.sign(message.encode()).hex(),
        }
        sent = body.replace(b'"OK"', b'"ERROR"') if tamper else body
        async with aiohttp.ClientSession() as session, session.post(url, data=sent, headers=headers) as r:
            return r.status

    async def _jwks(self, request: web.Request) -> web.Response:
        self.jwks_fetches += 1
        raw = self.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return web.json_response({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "fake"}]})

    # ------------------------------------------------------------------ the queue

    async def _queue(self, request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.method == "POST" and request.can_read_body else None
        seen = Call(request.method, request.path, dict(request.query), dict(request.headers), body)
        self.calls.append(seen)
        if self.down:
            return _error(503, "Service temporarily unavailable.")
        if self.rate_limit > 0:
            self.rate_limit -= 1
            return _error(429, "Too many requests.", headers={"Retry-After": f"{self.retry_after:g}"})
        if request.headers.get("Authorization") != f"Key {self.key}":
            return _error(401, "Invalid key.")
        path = request.path.strip("/")
        if "/requests/" not in path and request.method == "POST":
            return await self._submit(path, body or {}, request.query.get("fal_webhook"))
        app, _, rest = path.partition("/requests/")
        request_id, _, action = rest.partition("/")
        job = self.requests.get(request_id)
        if job is None or job.app != app:
            return _error(404, f"Request {request_id} not found.")
        if action == "status" and request.method == "GET":
            await self.faults.hang_if_due("status")
            return self.faults.html_instead("status") or web.json_response(self._status(job))
        if action == "cancel" and request.method == "PUT":
            if job.polls > self.steps:
                return web.json_response({"status": "ALREADY_COMPLETED"}, status=400)
            job.cancelled = True
            return web.json_response({"status": "CANCELLATION_REQUESTED"}, status=202)
        if not action and request.method == "GET":
            if job.cancelled or self.refuse_while_rendering:
                return _error(422, POLICY_MESSAGE if self.refuse_while_rendering else "Request cancelled.")
            return web.json_response(await self._result_body(job))
        return _error(405, "Method not allowed.")

    async def _submit(self, endpoint: str, arguments: dict[str, Any], webhook: str | None) -> web.Response:
        if not isinstance(arguments.get("prompt"), str) or not arguments["prompt"].strip():
            return _error(422, [{"loc": ["body", "prompt"], "msg": "field required", "type": "missing"}])
        if endpoint.endswith("image-to-video") and not str(arguments.get("image_url", "")).startswith(
            ("data:image/", "http")
        ):
            return _error(422, [{"loc": ["body", "image_url"], "msg": "field required", "type": "missing"}])
        if self.refuse_prompt:
            detail = [{"loc": ["body", "prompt"], "msg": POLICY_MESSAGE, "type": "content_policy_violation"}]
            return _error(422, detail, headers={"X-Fal-Error-Type": "content_policy_violation"})
        job = FalRequest(str(uuid.uuid4()), endpoint, arguments, webhook)
        self.requests[job.id] = job
        late = await self.faults.after_create('{"detail": "Gateway Timeout"}')
        if late is not None:
            return late
        base = f"{self.base_url}/{job.app}/requests/{job.id}"
        return web.json_response(
            {
                "request_id": job.id,
                "gateway_request_id": job.id,
                "response_url": base,
                "status_url": f"{base}/status",
                "cancel_url": f"{base}/cancel",
                "queue_position": 0,
            }
        )

    def _status(self, job: FalRequest) -> dict[str, Any]:
        job.polls += 1
        done = job.cancelled or job.polls > self.steps
        step = "COMPLETED" if done else STEPS[min(job.polls - 1, 1)]
        data: dict[str, Any] = {"status": step, "request_id": job.id, "logs": None}
        if step == "IN_QUEUE":
            data["queue_position"] = 0
        if step == "COMPLETED":
            data["metrics"] = {"inference_time": 12.5}
            if self.refuse_while_rendering:
                data.update(error=POLICY_MESSAGE, error_type="content_policy_violation")
        return data

    async def _result_body(self, job: FalRequest) -> dict[str, Any]:
        if self.image_output:
            return {"images": [{"url": f"{self.base_url}/files/{job.id}.png", "content_type": "image/png"}]}
        clip = await self._clips.clip(_seconds(job.arguments), str(job.arguments.get("aspect_ratio", "16:9")))
        return {
            "video": {
                "url": f"{self.base_url}/files/{job.id}.mp4",
                "content_type": "video/mp4",
                "file_name": "output.mp4",
                "file_size": len(clip),
            }
        }

    async def _file(self, request: web.Request) -> web.Response:
        self.calls.append(Call(request.method, request.path, {}, dict(request.headers), None))
        job = self.requests.get(request.match_info["id"])
        if job is None:
            return web.Response(status=404, text="Not Found")
        clip = await self._clips.clip(_seconds(job.arguments), str(job.arguments.get("aspect_ratio", "16:9")))
        return web.Response(body=clip, content_type="video/mp4")


def _seconds(arguments: dict[str, Any]) -> float:
    if "num_frames" in arguments:
        return (int(arguments["num_frames"]) - 1) / int(arguments.get("frames_per_second", 24))
    return float(arguments.get("duration", 5))


def _error(status: int, detail: object, headers: dict[str, str] | None = None) -> web.Response:
    """fal's error body: ``{"detail": …}`` (a string, or FastAPI's list of problems)."""
    return web.json_response({"detail": detail}, status=status, headers=headers)
