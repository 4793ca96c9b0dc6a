"""A local fake of Luma's Dream Machine API as the ``lumaai`` SDK calls it, with its callbacks.

Wire shapes read from lumaai 1.21 (``resources/generations/generations.py``,
``types/generation.py``, ``types/generation_list_response.py``) and Luma's API docs:

* ``POST /dream-machine/v1/generations/video`` (``Authorization: Bearer …``) with
  ``{"model", "prompt", "duration", "aspect_ratio", "resolution", "keyframes"?,
  "callback_url"?}`` → 201 and a generation (``id, state, created_at, model,
  generation_type, request, assets, failure_reason``).
* ``GET …/generations/{id}`` walks ``queued`` → ``dreaming`` → ``completed``
  (``assets.video``) one step per poll; ``GET …/generations?limit&offset`` lists newest
  first; ``DELETE …/generations/{id}`` removes one.
* Errors are ``{"detail": …}``; a prompt Luma will not make answers 400.
* :meth:`FakeLuma.send_callback` POSTs the generation to its ``callback_url``, as Luma does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.faults import CreateFaults
from tests.fakes.loopback import LoopbackServer
from tests.fakes.media import ClipCache

PREFIX = "/dream-machine/v1"
REFUSAL = "Prompt not allowed because advanced moderation failed"
ASPECTS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class FakeGeneration:
    id: str
    request: dict[str, Any]
    created_at: str
    polls: int = 0
    state: str = "queued"
    failure_reason: str | None = None

    def wire(self, base: str, image_output: bool) -> dict[str, Any]:
        assets: dict[str, Any] | None = None
        if self.state == "completed":
            assets = {"image": f"{base}/files/{self.id}.jpg"}
            if not image_output:
                assets["video"] = f"{base}/files/{self.id}.mp4"
        return {
            "id": self.id,
            "generation_type": "video",
            "state": self.state,
            "failure_reason": self.failure_reason,
            "created_at": self.created_at,
            "model": self.request.get("model"),
            "request": {"generation_type": "video", **self.request},
            "assets": assets,
        }


@dataclass
class FakeLuma:
    """Luma's generations API and its CDN. Switches: ``steps``, ``rate_limit``, ``down``,
    ``refuse_prompt``, ``refuse_while_rendering``, ``image_output`` and :attr:`faults`."""

    api_key: str = "luma-test-key"
    steps: int = 2
    retry_after: int = 2
    rate_limit: int = 0
    down: bool = False
    refuse_prompt: bool = False
    refuse_while_rendering: bool = False
    image_output: bool = False
    calls: list[Call] = field(default_factory=list)
    generations: dict[str, FakeGeneration] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    faults: CreateFaults = field(default_factory=CreateFaults)
    _server: LoopbackServer = field(default_factory=LoopbackServer)
    _clips: ClipCache = field(default_factory=lambda: ClipCache("fakeluma_"))

    @property
    def base_url(self) -> str:
        return self._server.base_url + PREFIX

    async def start(self) -> FakeLuma:
        app = web.Application()
        app.router.add_post(f"{PREFIX}/generations/video", self._create)
        app.router.add_get(f"{PREFIX}/generations", self._list)
        app.router.add_get(f"{PREFIX}/generations/{{id}}", self._get)
        app.router.add_delete(f"{PREFIX}/generations/{{id}}", self._delete)
        app.router.add_get("/files/{id}.{ext}", self._file)
        await self._server.open(app, "fakeluma_")
        return self

    async def stop(self) -> None:
        self.faults.release_hangs()
        await self._server.close()
        self._clips.close()

    async def __aenter__(self) -> FakeLuma:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def creates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST"]

    def api_calls(self) -> list[Call]:
        return [c for c in self.calls if c.path.startswith(PREFIX)]

    async def send_callback(self, generation_id: str, url: str | None = None) -> int:
        """POST the generation to its callback URL (or ``url``), as Luma does on a state change."""
        generation = self.generations[generation_id]
        target = url or str(generation.request["callback_url"])
        payload = generation.wire(self._server.base_url, self.image_output)
        async with aiohttp.ClientSession() as session, session.post(target, json=payload) as response:
            return response.status

    async def _guard(self, request: web.Request) -> web.Response | None:
        body = await request.json() if request.method == "POST" and request.can_read_body else None
        self.calls.append(Call(request.method, request.path, dict(request.headers), body))
        if self.down:
            return _error(503, "Service temporarily unavailable")
        if self.rate_limit > 0:
            self.rate_limit -= 1
            return _error(429, "Too many requests", {"Retry-After": str(self.retry_after)})
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Invalid API key")
        return None

    async def _create(self, request: web.Request) -> web.Response:
        failure = await self._guard(request)
        if failure is not None:
            return failure
        body = self.calls[-1].body or {}
        if body.get("model") not in ("ray-2", "ray-flash-2"):
            return _error(400, "Invalid model")
        if body.get("duration") not in ("5s", "9s") or body.get("aspect_ratio", "16:9") not in ASPECTS:
            return _error(400, "Invalid duration or aspect ratio")
        frame0 = (body.get("keyframes") or {}).get("frame0") or {}
        if frame0.get("type") == "generation" and frame0.get("id") not in self.generations:
            return _error(400, f"Generation {frame0.get('id')} not found")
        if self.refuse_prompt:
            return _error(400, REFUSAL)
        created = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        generation = FakeGeneration(str(uuid.uuid4()), body, created)
        self.generations[generation.id] = generation
        late = await self.faults.after_create('{"detail": "Gateway Timeout"}')
        made = generation.wire(self._server.base_url, self.image_output)
        return late or web.json_response(made, status=201)

    async def _get(self, request: web.Request) -> web.Response:
        failure = await self._guard(request)
        if failure is not None:
            return failure
        generation = self.generations.get(request.match_info["id"])
        if generation is None:
            return _error(404, "Generation not found")
        if generation.state in ("queued", "dreaming"):
            generation.polls += 1
            if generation.polls > self.steps:
                if self.refuse_while_rendering:
                    generation.state, generation.failure_reason = "failed", REFUSAL
                else:
                    generation.state = "completed"
            elif generation.polls > 1:
                generation.state = "dreaming"
        await self.faults.hang_if_due("status")
        html = self.faults.html_instead("status")
        return html or web.json_response(generation.wire(self._server.base_url, self.image_output))

    async def _list(self, request: web.Request) -> web.Response:
        failure = await self._guard(request)
        if failure is not None:
            return failure
        limit, offset = int(request.query.get("limit", "10")), int(request.query.get("offset", "0"))
        newest = sorted(self.generations.values(), key=lambda g: g.created_at, reverse=True)
        page = newest[offset : offset + limit]
        return web.json_response(
            {
                "generations": [g.wire(self._server.base_url, self.image_output) for g in page],
                "count": len(page),
                "has_more": offset + limit < len(newest),
                "limit": limit,
                "offset": offset,
            }
        )

    async def _delete(self, request: web.Request) -> web.Response:
        failure = await self._guard(request)
        if failure is not None:
            return failure
        if request.match_info["id"] not in self.generations:
            return _error(404, "Generation not found")
        self.deleted.append(request.match_info["id"])
        self.generations[request.match_info["id"]].state = "failed"
        return web.Response(status=204)

    async def _file(self, request: web.Request) -> web.Response:
        self.calls.append(Call(request.method, request.path, dict(request.headers), None))
        generation = self.generations.get(request.match_info["id"])
        if generation is None:
            return web.Response(status=404)
        if request.match_info["ext"] == "jpg":
            return web.Response(body=b"\xff\xd8\xff\xe0", content_type="image/jpeg")
        seconds = float(str(generation.request["duration"]).rstrip("s"))
        clip = await self._clips.clip(seconds, str(generation.request.get("aspect_ratio", "16:9")))
        return web.Response(body=clip, content_type="video/mp4")


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"detail": detail}, status=status, headers=headers)
