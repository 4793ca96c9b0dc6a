"""A local fake of Replicate's predictions API as the ``replicate`` SDK calls it, with signed webhooks.

Wire shapes read from replicate 1.0 (``prediction.py``, ``model.py``, ``pagination.py``,
``webhook.py``) and Replicate's HTTP API docs:

* ``POST /v1/models/{owner}/{name}/predictions`` and ``POST /v1/predictions`` (``version``)
  with ``{"input", "webhook"?, "webhook_events_filter"?}`` → 201 and a prediction
  (``id, model, version, status, input, output, logs, error, metrics, created_at,
  started_at, completed_at, urls``).
* ``GET /v1/predictions/{id}`` walks ``starting`` → ``processing`` (logs with a
  percentage) → ``succeeded`` (``output``: a file URL) one step per poll.
* ``GET /v1/predictions`` pages newest first (``{"next", "previous", "results"}``).
* ``POST /v1/predictions/{id}/cancel`` → the prediction, ``canceled``.
* Errors are RFC 7807 problem details (``{"title", "detail", "status"}``); a 429 says
  "Expected available in N seconds" as Replicate's throttle does.
* :meth:`FakeReplicate.send_webhook` signs a delivery with the account's ``whsec_`` secret.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.faults import CreateFaults
from tests.fakes.loopback import LoopbackServer
from tests.fakes.media import ClipCache
from tests.fakes.openai import sign_webhook

REFUSAL = "The input or output was flagged as sensitive (E005)."


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class FakePrediction:
    id: str
    model: str
    version: str
    input: dict[str, Any]
    webhook: str | None
    created_at: str
    polls: int = 0
    status: str = "starting"
    output: str | list[str] | None = None
    error: str | None = None

    def wire(self, base: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "version": self.version,
            "status": self.status,
            "input": self.input,
            "output": self.output,
            "logs": f"{min(self.polls * 40, 100)}%|████" if self.status == "processing" else "",
            "error": self.error,
            "metrics": {"predict_time": 31.2} if self.status == "succeeded" else {},
            "created_at": self.created_at,
            "started_at": self.created_at if self.status != "starting" else None,
            "completed_at": None,
            "urls": {
                "get": f"{base}/v1/predictions/{self.id}",
                "cancel": f"{base}/v1/predictions/{self.id}/cancel",
            },
        }


@dataclass
class FakeReplicate:
    """Replicate's predictions API, its file CDN and its webhook signer.

    Attributes a test may flip at any time: ``steps`` (polls before success), ``rate_limit``,
    ``down`` (503), ``refuse_prompt`` (422 at create), ``refuse_while_rendering`` (fails flagged),
    ``image_output`` (a PNG instead of an MP4), and :attr:`faults`.
    """

    token: str = "r8_test_token"
    steps: int = 2
    retry_after: int = 2
    rate_limit: int = 0
    down: bool = False
    refuse_prompt: bool = False
    refuse_while_rendering: bool = False
    image_output: bool = False
    webhook_secret: str = field(default_factory=lambda: "whsec_" + base64.b64encode(os.urandom(24)).decode())
    calls: list[Call] = field(default_factory=list)
    predictions: dict[str, FakePrediction] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    faults: CreateFaults = field(default_factory=CreateFaults)
    _server: LoopbackServer = field(default_factory=LoopbackServer)
    _clips: ClipCache = field(default_factory=lambda: ClipCache("fakereplicate_"))

    @property
    def base_url(self) -> str:
        return self._server.base_url

    async def start(self) -> FakeReplicate:
        app = web.Application()
        app.router.add_post("/v1/models/{owner}/{name}/predictions", self._create)
        app.router.add_post("/v1/predictions", self._create)
        app.router.add_get("/v1/predictions", self._list)
        app.router.add_get("/v1/predictions/{id}", self._get)
        app.router.add_post("/v1/predictions/{id}/cancel", self._cancel)
        app.router.add_get("/files/{id}.{ext}", self._file)
        await self._server.open(app, "fakereplicate_")
        return self

    async def stop(self) -> None:
        self.faults.release_hangs()
        await self._server.close()
        self._clips.close()

    async def __aenter__(self) -> FakeReplicate:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def creates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.path.endswith("/predictions")]

    def api_calls(self) -> list[Call]:
        return [c for c in self.calls if c.path.startswith("/v1/")]

    def finish(self, prediction_id: str) -> None:
        """Jump a prediction to its end, as if it had finished between polls."""
        prediction = self.predictions[prediction_id]
        prediction.polls = max(prediction.polls, self.steps + 1)
        self._advance(prediction)

    async def send_webhook(self, url: str, prediction_id: str, *, secret: str | None = None) -> int:
        body = json.dumps(self.predictions[prediction_id].wire(self.base_url))
        webhook_id, stamp = f"msg_{uuid.uuid4().hex}", int(time.time())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign_webhook(secret or self.webhook_secret, webhook_id, stamp, body),
        }
        async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as r:
            return r.status

    # ------------------------------------------------------------------ HTTP

    async def _guard(self, request: web.Request) -> web.Response | None:
        body = await request.json() if request.method == "POST" and request.can_read_body else None
        self.calls.append(Call(request.method, request.path, dict(request.headers), body))
        if self.down:
            return _problem(503, "Service Unavailable", "Replicate is temporarily unavailable.")
        if self.rate_limit > 0:
            self.rate_limit -= 1
            detail = f"Request was throttled. Expected available in {self.retry_after} seconds."
            return _problem(429, "Request was throttled", detail)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        return None

    async def _create(self, request: web.Request) -> web.Response:
        failure = await self._guard(request)
        if failure is not None:
            return failure
        body = self.calls[-1].body or {}
        inputs = body.get("input")
        if not isinstance(inputs, dict) or not str(inputs.get("prompt", "")).strip():
            return _problem(422, "Input validation failed", "input.prompt: prompt is required")
        if self.refuse_prompt:
            return _problem(422, "Input validation failed", REFUSAL)
        owner, name = request.match_info.get("owner"), request.match_info.get("name")
        model = f"{owner}/{name}" if owner else "pinned/model"
        version = str(body.get("version") or uuid.uuid4().hex)
        created = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        hook = body.get("webhook")
        prediction = FakePrediction(uuid.uuid4().hex[:26], model, version, inputs, hook, created)
        self.predictions[prediction.id] = prediction
        late = await self.faults.after_create('{"title": "Gateway Timeout", "status": 504}')
        return late or web.json_response(prediction.wire(self.base_url), status=201)

    async def _get(self, request: web.Request) -> web.Response:
        failure = await self._guard(request)
        if failure is not None:
            return failure
        prediction = self.predictions.get(request.match_info["id"])
        if prediction is None:
            return _problem(404, "Not found", "The requested resource could not be found.")
        if prediction.status in ("starting", "processing"):
            prediction.polls += 1
            self._advance(prediction)
        await self.faults.hang_if_due("status")
        return self.faults.html_instead("status") or web.json_response(prediction.wire(self.base_url))

    def _advance(self, prediction: FakePrediction) -> None:
        if prediction.polls > self.steps:
            if self.refuse_while_rendering:
                prediction.status, prediction.error = "failed", REFUSAL
            else:
                ext = "png" if self.image_output else "mp4"
                prediction.status = "succeeded"
                prediction.output = f"{self.base_url}/files/{prediction.id}.{ext}"
        elif prediction.polls > 1:
            prediction.status = "processing"

    async def _list(self, request: web.Request) -> web.Response:
        failure = await self._guard(request)
        if failure is not None:
            return failure
        newest = sorted(self.predictions.values(), key=lambda p: p.created_at, reverse=True)
        start = int(request.query.get("page", "0"))
        page = newest[start : start + 2]  # small pages, so clients must follow "next"
        more = start + 2 < len(newest)
        return web.json_response(
            {
                "next": f"{self.base_url}/v1/predictions?page={start + 2}" if more else None,
                "previous": None,
                "results": [p.wire(self.base_url) for p in page],
            }
        )

    async def _cancel(self, request: web.Request) -> web.Response:
        failure = await self._guard(request)
        if failure is not None:
            return failure
        prediction = self.predictions.get(request.match_info["id"])
        if prediction is None:
            return _problem(404, "Not found", "The requested resource could not be found.")
        self.cancelled.append(prediction.id)
        if prediction.status in ("starting", "processing"):
            prediction.status = "canceled"
        return web.json_response(prediction.wire(self.base_url))

    async def _file(self, request: web.Request) -> web.Response:
        self.calls.append(Call(request.method, request.path, dict(request.headers), None))
        prediction = self.predictions.get(request.match_info["id"])
        if prediction is None:
            return web.Response(status=404)
        if request.match_info["ext"] == "png":
            return web.Response(body=b"\x89PNG\r\n\x1a\n", content_type="image/png")
        inputs = prediction.input
        seconds = (
            (int(inputs["num_frames"]) - 1) / int(inputs.get("frames_per_second", 16))
            if "num_frames" in inputs
            else float(inputs.get("duration", 5))
        )
        clip = await self._clips.clip(seconds, str(inputs.get("aspect_ratio", "16:9")))
        return web.Response(body=clip, content_type="video/mp4")


def _problem(status: int, title: str, detail: str) -> web.Response:
    return web.json_response(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
        content_type="application/problem+json",
    )
