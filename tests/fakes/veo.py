"""A local fake of Veo on Agent Platform (Vertex AI), as google-genai 3.x calls it.

google-genai 3.x sends video generation only in Agent Platform mode
(``genai.Client(vertexai=True, …)``); in Gemini Developer API mode
``generate_videos`` raises before any request. So this fake speaks the wire
shapes of that mode, read from the SDK (``models._GenerateVideosParameters_to_vertex``,
``operations.AsyncOperations.get``, ``models._GenerateVideosOperation_from_vertex``):

* ``POST /v1beta1/[projects/{p}/locations/{l}/]publishers/google/models/{model}:predictLongRunning``
  with ``{"instances": [{"prompt": …}], "parameters": {"sampleCount", "durationSeconds",
  "aspectRatio", "resolution", "negativePrompt", "seed", "personGeneration",
  "generateAudio", "storageUri"}}`` → ``{"name": "projects/…/operations/{id}"}``.
  An image-to-video create adds ``instances[0].image = {"bytesBase64Encoded", "mimeType"}``
  (``GenerateVideosSource.image``); it must decode to an image, whose size the operation
  records (:attr:`Operation.first_frame`).
* ``POST /v1beta1/{model resource}:fetchPredictOperation`` with ``{"operationName": …}``
  → the operation: ``done`` after ``polls_until_done`` polls, then either
  ``response.videos[0]`` (``bytesBase64Encoded``, or ``gcsUri`` when the request
  named a ``storageUri``), ``response.raiMediaFilteredCount/Reasons``, or ``error``.
* ``GET /storage/v1/b/{bucket}/o/{object}?alt=media`` serves ``gcsUri`` outputs the
  way the Cloud Storage JSON API does (bearer token required).

The clips are real MP4s (``tests.fakes.media.write_test_mp4``) with the
requested aspect but tiny (192x108 or 108x192, 1 s at 12 fps, a few KB) so a
test decodes them in milliseconds; the shape, not the pixel count, is what the
adapter must get right. ``clip_seconds=None`` makes them as long as asked.

Failure modes are plain attributes a test sets, even while the fake runs.
Every request is recorded in :attr:`calls`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from PIL import Image

from tests.fakes.faults import CreateFaults
from tests.fakes.loopback import LoopbackServer
from tests.fakes.media import write_test_mp4

CLIP_SIZES = {"16:9": (192, 108), "9:16": (108, 192)}
RAI_REASON = (
    "Veo could not generate videos because the input prompt violates Google's "
    "Responsible AI practices. Support codes: 58061214"
)
_PREFIX_DEFAULT = ("fake-project", "us-central1")


@dataclass
class Call:
    """One request as the fake saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class Operation:
    name: str
    model: str
    prompt: str
    parameters: dict[str, Any]
    polls: int = 0
    video_uri: str | None = None
    first_frame: tuple[int, int] | None = None  # the size of the image it started from


@dataclass
class FakeVeo:
    """The Veo predictLongRunning / fetchPredictOperation endpoints and a Cloud Storage reader.

    Attributes a test may flip at any time:
        polls_until_done: fetches an operation answers ``done: false`` before it is done.
        rate_limit: the next N requests answer 429 RESOURCE_EXHAUSTED with a retry hint.
        server_errors: the next N requests answer 500 INTERNAL.
        down: every request answers 503 UNAVAILABLE.
        refuse_prompt: predictLongRunning answers 400 INVALID_ARGUMENT (Responsible AI).
        rai_filter: operations finish with every video filtered and the reasons given.
        operation_error: operations finish with this ``error`` object instead of videos.
        expired: finished operations are gone (404 NOT_FOUND); clear :attr:`objects` to
            make stored clips gone too.
    """

    api_key: str = "test-veo-key"
    oauth_token: str = "test-oauth-token"
    gcs_token: str = "test-gcs-token"
    polls_until_done: int = 2
    clip_seconds: float | None = 1.0  # None: as long as the job asked for (for demos)
    retry_after: float = 7.0
    rate_limit: int = 0
    server_errors: int = 0
    down: bool = False
    refuse_prompt: bool = False
    rai_filter: bool = False
    operation_error: dict[str, Any] | None = None
    expired: bool = False
    calls: list[Call] = field(default_factory=list)
    operations: dict[str, Operation] = field(default_factory=dict)
    objects: dict[str, bytes] = field(default_factory=dict)
    faults: CreateFaults = field(default_factory=CreateFaults)  # 504 after create, slow create, HTML
    _server: LoopbackServer = field(default_factory=LoopbackServer)
    _clips: dict[str, bytes] = field(default_factory=dict)

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def storage_url(self) -> str:
        return self.base_url

    async def start(self) -> FakeVeo:
        app = web.Application()
        app.router.add_get("/storage/v1/b/{bucket}/o/{object:.+}", self._read_object)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        await self._server.open(app, "fakeveo_")
        return self

    async def stop(self) -> None:
        self.faults.release_hangs()
        await self._server.close()

    async def __aenter__(self) -> FakeVeo:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ queries for tests

    @property
    def submitted(self) -> int:
        """How many generation jobs were accepted (what Google would bill for)."""
        return len(self.operations)

    def calls_to(self, suffix: str) -> list[Call]:
        return [c for c in self.calls if c.path.endswith(suffix)]

    # ------------------------------------------------------------------ HTTP

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        self.calls.append(Call(request.method, request.path, dict(request.headers), body))
        failure = self._injected_failure()
        if failure is not None:
            return failure
        if (
            request.headers.get("x-goog-api-key") != self.api_key
            and request.headers.get("Authorization") != f"Bearer {self.oauth_token}"
        ):
            return _error(401, "UNAUTHENTICATED", "API key not valid. Please pass a valid API key.")
        path = request.path.lstrip("/")
        version, _, resource = path.partition("/")
        if request.method != "POST" or version != "v1beta1":
            return _error(404, "NOT_FOUND", f"no route for {request.method} {request.path}")
        if resource.endswith(":predictLongRunning"):
            return await self._predict(resource.removesuffix(":predictLongRunning"), body or {})
        if resource.endswith(":fetchPredictOperation"):
            return await self._fetch(resource.removesuffix(":fetchPredictOperation"), body or {})
        return _error(404, "NOT_FOUND", f"unknown method {resource}")

    def _injected_failure(self) -> web.Response | None:
        if self.down:
            return _error(503, "UNAVAILABLE", "The service is currently unavailable.")
        if self.rate_limit > 0:
            self.rate_limit -= 1
            return _error(
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model.",
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.RetryInfo",
                        "retryDelay": f"{self.retry_after:g}s",
                    }
                ],
            )
        if self.server_errors > 0:
            self.server_errors -= 1
            return _error(500, "INTERNAL", "Internal error encountered.")
        return None

    async def _predict(self, resource: str, body: dict[str, Any]) -> web.Response:
        project, location = _PREFIX_DEFAULT
        parts = resource.split("/")
        if parts[0] == "projects":
            project, location = parts[1], parts[3]
            parts = parts[4:]
        if parts[:3] != ["publishers", "google", "models"] or len(parts) != 4:
            return _error(404, "NOT_FOUND", f"Publisher model `{resource}` not found.")
        model = parts[3]
        instances = body.get("instances") or [{}]
        prompt = str(instances[0].get("prompt") or "")
        parameters = dict(body.get("parameters") or {})
        problem = _invalid(parameters, prompt)
        first_frame: tuple[int, int] | None = None
        if not problem and "image" in instances[0]:
            first_frame, problem = _first_frame(instances[0]["image"])
        if problem:
            return _error(400, "INVALID_ARGUMENT", problem)
        if self.refuse_prompt:
            return _error(400, "INVALID_ARGUMENT", RAI_REASON)
        name = (
            f"projects/{project}/locations/{location}/publishers/google/models/{model}"
            f"/operations/{uuid.uuid4()}"
        )
        self.operations[name] = Operation(name, model, prompt, parameters, first_frame=first_frame)
        late = await self.faults.after_create(
            json.dumps(
                {"error": {"code": 504, "message": "Deadline exceeded.", "status": "DEADLINE_EXCEEDED"}}
            )
        )
        return late or web.json_response({"name": name})

    async def _fetch(self, resource: str, body: dict[str, Any]) -> web.Response:
        name = str(body.get("operationName") or "")
        op = self.operations.get(name)
        if op is None or not name.startswith(resource + "/operations/"):
            return _error(404, "NOT_FOUND", f"Operation {name} not found.")
        op.polls += 1
        await self.faults.hang_if_due("status")
        html = self.faults.html_instead("status")
        if html is not None:
            return html
        if op.polls <= self.polls_until_done:
            return web.json_response({"name": name, "done": False})
        if self.expired:
            return _error(404, "NOT_FOUND", f"Operation {name} not found or expired.")
        result: dict[str, Any] = {"name": name, "done": True}
        if self.operation_error is not None:
            result["error"] = self.operation_error
        elif self.rai_filter:
            result["response"] = {
                "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
                "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": [RAI_REASON],
            }
        else:
            result["response"] = {
                "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
                "raiMediaFilteredCount": 0,
                "videos": [await self._video(op)],
            }
        return web.json_response(result)

    async def _video(self, op: Operation) -> dict[str, str]:
        seconds = self.clip_seconds or float(op.parameters.get("durationSeconds") or 8)
        clip = await self._clip(str(op.parameters.get("aspectRatio") or "16:9"), seconds)
        storage = op.parameters.get("storageUri")
        if storage:
            uri = f"{str(storage).rstrip('/')}/{op.name.rsplit('/', 1)[-1]}/sample_0.mp4"
            if op.video_uri is None:  # written once, when the job finishes
                self.objects[uri] = clip
                op.video_uri = uri
            return {"gcsUri": uri, "mimeType": "video/mp4"}
        return {"bytesBase64Encoded": base64.b64encode(clip).decode(), "mimeType": "video/mp4"}

    async def _clip(self, aspect: str, seconds: float) -> bytes:
        width, height = CLIP_SIZES[aspect]
        key = f"veo_{width}x{height}_{seconds:g}s"
        if key not in self._clips:
            assert self._server.workdir is not None
            path = self._server.workdir / f"{key}.mp4"
            await asyncio.to_thread(write_test_mp4, path, seconds, width, height, 12)
            self._clips[key] = path.read_bytes()
        return self._clips[key]

    async def _read_object(self, request: web.Request) -> web.StreamResponse:
        self.calls.append(Call(request.method, request.path, dict(request.headers), None))
        if self.down:
            return _error(503, "UNAVAILABLE", "The service is currently unavailable.")
        if request.headers.get("Authorization") != f"Bearer {self.gcs_token}":
            return _error(
                401, "UNAUTHENTICATED", "Anonymous caller does not have storage.objects.get access."
            )
        if request.query.get("alt") != "media":
            return _error(400, "INVALID_ARGUMENT", "only alt=media is served by the fake")
        uri = f"gs://{request.match_info['bucket']}/{request.match_info['object']}"
        data = self.objects.get(uri)
        if data is None:
            return _error(404, "NOT_FOUND", f"No such object: {uri[5:]}")
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.content_length = len(data)
        await response.prepare(request)
        # Several writes, so a client that reads everything at once is not what passes.
        for start in range(0, len(data), 4096):
            await response.write(data[start : start + 4096])
        await response.write_eof()
        return response


def _invalid(parameters: dict[str, Any], prompt: str) -> str | None:
    if not prompt:
        return "A prompt is required for text-to-video."
    if parameters.get("durationSeconds") not in (4, 6, 8):
        return "Unsupported duration. Supported durations are 4, 6 and 8 seconds."
    if parameters.get("aspectRatio", "16:9") not in CLIP_SIZES:
        return "Unsupported aspect ratio. Supported aspect ratios are 16:9 and 9:16."
    if parameters.get("resolution", "720p") not in ("720p", "1080p"):
        return "Unsupported resolution. Supported resolutions are 720p and 1080p."
    if parameters.get("sampleCount", 1) not in (1, 2, 3, 4):
        return "sampleCount must be between 1 and 4."
    return None


def _first_frame(image: Any) -> tuple[tuple[int, int] | None, str | None]:
    """Check ``instances[0].image`` as Veo does; the image's size if it is a valid one."""
    if not isinstance(image, dict) or image.get("mimeType") not in ("image/png", "image/jpeg"):
        return None, "Image mimeType must be image/png or image/jpeg."
    if "gcsUri" in image:
        return None, None  # Veo would read the object; the fake takes it on trust
    try:
        data = base64.b64decode(str(image.get("bytesBase64Encoded", "")), validate=True)
        with Image.open(io.BytesIO(data)) as decoded:
            return decoded.size, None
    except (binascii.Error, OSError, ValueError):
        return None, "Unable to decode the input image."


def _error(code: int, status: str, message: str, details: list[dict[str, Any]] | None = None) -> web.Response:
    """A google.rpc.Status error body, as Google APIs send it."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    # Google APIs put the retry hint in a RetryInfo detail, not in a Retry-After header.
    return web.Response(status=code, text=json.dumps({"error": error}), content_type="application/json")
