"""A local fake of Runway's API as the ``runwayml`` SDK calls it.

Wire shapes read from runwayml 5.24 (``resources/text_to_video.py``,
``resources/tasks.py``, ``types/task_retrieve_response.py``) and Runway's docs:

* ``POST /v1/text_to_video`` with ``{"model", "promptText", "ratio", "duration",
  "seed"?, "audio"?, "negativePrompt"?}`` → ``{"id", "estimatedCost": {"credits"}}``.
  Requests need ``Authorization: Bearer …`` and ``X-Runway-Version: 2024-11-06``
  (the real API rejects a missing version with 400).
* ``POST /v1/image_to_video``: the same body plus ``"promptImage"``, a URL/data URI or a list
  of ``{"uri", "position": "first"|"last"}`` (``position`` "last" only on the veo models);
  a data URI must decode to an image, whose size the task records (:attr:`Task.first_frame`).
* ``GET /v1/tasks/{id}`` → a task walking through :attr:`FakeRunway.script`
  (``PENDING → THROTTLED → RUNNING 40% → RUNNING 80% → SUCCEEDED`` by default)
  one step per poll. ``SUCCEEDED`` carries ``output`` URLs served by this fake
  (signed-looking query, like Runway's CDN links) and a final ``cost``.
* ``GET /outputs/{id}.mp4?_jwt=…`` serves the clip: a real MP4 with the task's
  ratio, scaled down to 192x108 or 108x192 and 1 s at 12 fps so tests decode it
  in milliseconds (``clip_seconds=None``: as long as the task asked for).

Failure modes are plain attributes a test sets, even while the fake runs.
Every request is recorded in :attr:`calls`; :attr:`created` counts tasks.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from PIL import Image

from tests.fakes.faults import CreateFaults
from tests.fakes.loopback import LoopbackServer
from tests.fakes.media import write_test_mp4

RUNWAY_VERSION = "2024-11-06"
# model -> (allowed ratios, allowed durations, credits per second)
MODELS: dict[str, tuple[tuple[str, ...], tuple[int, ...], int]] = {
    "gen4.5": (("1280:720", "720:1280"), tuple(range(2, 11)), 12),
    "veo3.1": (("1280:720", "720:1280", "1920:1080", "1080:1920"), (4, 6, 8), 40),
    "veo3.1_fast": (("1280:720", "720:1280", "1920:1080", "1080:1920"), (4, 6, 8), 15),
    "kling2.5_turbo_pro": (
        ("1920:1080", "1440:1440", "1080:1920", "1280:720", "720:720", "720:1280"),
        (5, 10),
        7,
    ),
}
DEFAULT_SCRIPT: tuple[tuple[str, float], ...] = (
    ("PENDING", 0.0),
    ("THROTTLED", 0.0),
    ("RUNNING", 0.4),
    ("RUNNING", 0.8),
    ("SUCCEEDED", 1.0),
)
SAFETY_FAILURE = ("SAFETY.INPUT.TEXT", "The prompt text did not pass content moderation.")


@dataclass
class Call:
    """One request as the fake saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class Task:
    id: str
    body: dict[str, Any]
    credits: int
    created_at: str
    polls: int = 0
    first_frame: tuple[int, int] | None = None  # image_to_video: the size of its first-frame image
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class FakeRunway:
    """``/v1/text_to_video``, ``/v1/tasks/{id}`` and the output CDN.

    Attributes a test may flip at any time:
        script: the (status, progress) each poll of a task reports, the last one repeating.
        rate_limit: the next N requests answer 429 with ``Retry-After: retry_after``.
        server_errors: the next N requests answer 500.
        down: every API request answers 503 (Runway shedding load).
        refuse_prompt: ``text_to_video`` answers 400 (input failed moderation).
        fail_code: tasks end FAILED with this failureCode (see :data:`SAFETY_FAILURE`).
        cancel: tasks end CANCELLED.
        expired: output URLs answer 404 (Runway's links expire within 24-48 h).
    """

    api_key: str = "key_test"
    script: tuple[tuple[str, float], ...] = DEFAULT_SCRIPT
    clip_seconds: float | None = 1.0  # None: as long as the task asked for (for demos)
    retry_after: int = 3
    rate_limit: int = 0
    server_errors: int = 0
    down: bool = False
    refuse_prompt: bool = False
    fail_code: str | None = None
    fail_message: str = SAFETY_FAILURE[1]
    cancel: bool = False
    expired: bool = False
    calls: list[Call] = field(default_factory=list)
    tasks: dict[str, Task] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    # 504 after create, slow create, HTML pages; Runway documents no Idempotency-Key, so off
    faults: CreateFaults = field(default_factory=CreateFaults)
    _server: LoopbackServer = field(default_factory=LoopbackServer)
    _clips: dict[str, bytes] = field(default_factory=dict)

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return self._server.base_url

    async def start(self) -> FakeRunway:
        app = web.Application()
        app.router.add_post("/v1/text_to_video", self._create)
        app.router.add_post("/v1/image_to_video", self._create)
        app.router.add_get("/v1/tasks/{id}", self._retrieve)
        app.router.add_delete("/v1/tasks/{id}", self._delete)
        app.router.add_get("/outputs/{id}.mp4", self._output)
        await self._server.open(app, "fakerunway_")
        return self

    async def stop(self) -> None:
        self.faults.release_hangs()
        await self._server.close()

    async def __aenter__(self) -> FakeRunway:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ queries for tests

    @property
    def created(self) -> int:
        """How many tasks were created (what Runway would bill for)."""
        return len(self.tasks)

    def calls_to(self, prefix: str) -> list[Call]:
        return [c for c in self.calls if c.path.startswith(prefix)]

    # ------------------------------------------------------------------ HTTP

    async def _guard(self, request: web.Request) -> web.Response | None:
        """Record the call, apply injected failures, and check auth and version headers."""
        body = await request.json() if request.can_read_body else None
        self.calls.append(Call(request.method, request.path, dict(request.headers), body))
        if self.down:
            return _error(503, "Service is temporarily shedding load. Please retry.")
        if self.rate_limit > 0:
            self.rate_limit -= 1
            return _error(
                429, "You have exceeded the rate limit.", headers={"Retry-After": str(self.retry_after)}
            )
        if self.server_errors > 0:
            self.server_errors -= 1
            return _error(500, "An unexpected error occurred.")
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Invalid API key.")
        if request.headers.get("X-Runway-Version") != RUNWAY_VERSION:
            return _error(400, "X-Runway-Version is missing or names an unknown version.")
        return None

    async def _create(self, request: web.Request) -> web.Response:
        failure = await self._guard(request)
        if failure is not None:
            return failure
        body = self.calls[-1].body or {}
        problem = _invalid(body)
        first_frame: tuple[int, int] | None = None
        if not problem and request.path == "/v1/image_to_video":
            first_frame, problem = _prompt_image(body)
        if problem:
            return _error(400, problem)
        if self.refuse_prompt:
            return _error(400, "Your prompt text did not pass our content moderation.")
        credits = MODELS[body["model"]][2] * int(body["duration"])
        task = Task(str(uuid.uuid4()), body, credits, _now(), first_frame=first_frame)
        self.tasks[task.id] = task
        late = await self.faults.after_create('{"error": "Gateway timeout."}')
        return late or web.json_response({"id": task.id, "estimatedCost": {"credits": credits}})

    async def _delete(self, request: web.Request) -> web.Response:
        """Cancel a running task (or delete a finished one): 204 No Content."""
        failure = await self._guard(request)
        if failure is not None:
            return failure
        task_id = request.match_info["id"]
        if task_id not in self.tasks:
            return _error(404, "Task not found.")
        self.cancelled.append(task_id)
        return web.Response(status=204)

    async def _retrieve(self, request: web.Request) -> web.Response:
        failure = await self._guard(request)
        if failure is not None:
            return failure
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return _error(404, "Task not found.")
        task.polls += 1
        await self.faults.hang_if_due("status")
        return self.faults.html_instead("status") or web.json_response(self._task_json(task))

    def _task_json(self, task: Task) -> dict[str, Any]:
        status, progress = self.script[min(task.polls, len(self.script)) - 1]
        data: dict[str, Any] = {"id": task.id, "createdAt": task.created_at}
        if status == "SUCCEEDED" and (self.fail_code or self.cancel):
            status = "CANCELLED" if self.cancel else "FAILED"
        if task.id in self.cancelled:
            status = "CANCELLED"
        if status in ("PENDING", "THROTTLED", "RUNNING"):
            data.update(status=status, estimatedCost={"credits": task.credits})
            if status == "RUNNING":
                data["progress"] = progress
        elif status == "SUCCEEDED":
            data.update(
                status=status,
                cost={"credits": task.credits},
                output=[f"{self.base_url}/outputs/{task.id}.mp4?_jwt={task.token}"],
            )
        elif status == "FAILED":
            # Runway does not charge for failed generations: their cost is refunded to 0.
            data.update(
                status=status, cost={"credits": 0}, failure=self.fail_message, failureCode=self.fail_code
            )
        else:
            data.update(status="CANCELLED", cost={"credits": 0})
        return data

    async def _output(self, request: web.Request) -> web.StreamResponse:
        self.calls.append(Call(request.method, request.path, dict(request.headers), None))
        task = self.tasks.get(request.match_info["id"])
        if task is None or self.expired or request.query.get("_jwt") != task.token:
            return web.Response(status=404, text="Not Found")
        if "Authorization" in request.headers:
            # Output links are pre-signed: a client must not send its API key to the CDN.
            return web.Response(status=400, text="unexpected Authorization header")
        clip = await self._clip(str(task.body["ratio"]), self.clip_seconds or float(task.body["duration"]))
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.content_length = len(clip)
        await response.prepare(request)
        for start in range(0, len(clip), 4096):
            await response.write(clip[start : start + 4096])
        await response.write_eof()
        return response

    async def _clip(self, ratio: str, seconds: float) -> bytes:
        width, height = (int(v) for v in ratio.split(":"))
        size = (192, 108) if width > height else (108, 192) if height > width else (128, 128)
        key = f"runway_{size[0]}x{size[1]}_{seconds:g}s"
        if key not in self._clips:
            assert self._server.workdir is not None
            path = self._server.workdir / f"{key}.mp4"
            await asyncio.to_thread(write_test_mp4, path, seconds, size[0], size[1], 12)
            self._clips[key] = path.read_bytes()
        return self._clips[key]


def _invalid(body: dict[str, Any]) -> str | None:
    model = body.get("model")
    if model not in MODELS:
        return f"Validation of body failed: model must be one of {', '.join(MODELS)}."
    ratios, durations, _ = MODELS[model]
    prompt = body.get("promptText")
    if not isinstance(prompt, str) or not prompt.strip():
        return "Validation of body failed: promptText must be a non-empty string."
    if len(prompt.encode("utf-16-le")) // 2 > 1000:
        return "Validation of body failed: promptText must be at most 1000 characters."
    if body.get("ratio") not in ratios:
        return f"Validation of body failed: ratio must be one of {', '.join(ratios)}."
    if body.get("duration") not in durations:
        return f"Validation of body failed: duration must be one of {durations}."
    return None


def _prompt_image(body: dict[str, Any]) -> tuple[tuple[int, int] | None, str | None]:
    """Check ``promptImage`` as Runway does; the first frame's size when it came as a data URI."""
    images = body.get("promptImage")
    if isinstance(images, str):
        images = [{"uri": images, "position": "first"}]
    if not isinstance(images, list) or not images:
        return None, "Validation of body failed: promptImage is required."
    positions = ("first", "last") if str(body["model"]).startswith("veo") else ("first",)
    first: tuple[int, int] | None = None
    for image in images:
        if not isinstance(image, dict) or image.get("position") not in positions:
            return None, f"Validation of body failed: promptImage position must be one of {positions}."
        uri = str(image.get("uri", ""))
        if not uri.startswith("data:"):
            continue  # an https URL: Runway would fetch it; the fake takes it on trust
        head, _, data = uri.partition(",")
        if not head.startswith("data:image/") or not head.endswith(";base64"):
            return None, "Validation of body failed: promptImage data URI must be a base64 image."
        try:
            with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as decoded:
                size = decoded.size
        except (binascii.Error, OSError, ValueError):
            return None, "Invalid asset: the promptImage could not be decoded as an image."
        if image["position"] == "first":
            first = size
    return first, None


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """Runway's error body: a JSON object with a human-readable ``error`` member."""
    return web.json_response({"error": message}, status=status, headers=headers)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
