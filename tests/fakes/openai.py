"""A local fake of the OpenAI API, spoken over HTTP so the unmodified ``openai`` SDK can drive it.

openai 3.x sends requests with httpx2, which respx does not intercept, so the
fake is a real aiohttp server on 127.0.0.1 (a random port). Point a client at
``fake.base_url``; nothing else about the SDK changes.

What it speaks, as the SDK sends and parses it:

- ``POST /v1/videos`` (multipart/form-data: prompt, model, seconds, size),
  ``GET /v1/videos/{id}`` (queued → in_progress → completed, one step per poll,
  with ``progress`` and the ``openai-poll-after-ms`` header),
  ``GET /v1/videos/{id}/content?variant=video|thumbnail`` (a real H.264 MP4),
  ``POST /v1/videos/{id}/remix``, ``POST /v1/videos/extensions`` (``videos.extend``);
  a create with an ``input_reference`` image (a first frame) must match the requested size;
- ``POST /v1/chat/completions`` answering with the JSON a scripted "model" writes;
- ``POST /v1/moderations`` flagging configured words;
- ``POST /v1/audio/speech`` (wav or pcm): a voice-like sound as long as the words take;
- webhooks: :meth:`FakeOpenAI.send_webhook` signs and POSTs ``video.*`` events
  the way OpenAI does (Standard Webhooks, ``whsec_`` secret).

Clips are real but small so tests stay fast: the MP4 keeps the requested
duration and aspect, but is encoded with its long side capped at
``encode_long_side`` pixels (default 320) and at ``encode_fps`` frames per
second (default 8). The ``Video`` object still reports the requested size.
Clips are cached per (seconds, size) and encoded in a thread, because the fake
shares the test's event loop.

Failure switches: :meth:`fail` (any status on any route, N times, with
``Retry-After``), :meth:`rate_limit`, :meth:`server_error`, ``down`` (503 for
everything), :meth:`close` (connection refused), :meth:`refuse_create` (400
``moderation_blocked``), :meth:`block_next_video` (the job fails with
``moderation_blocked``), :meth:`expire` (content 404), :meth:`stall` (no answer
until the client times out). Every request is recorded in :attr:`calls`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import os
import re
import time
import uuid
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from aiohttp import web
from openai import AsyncOpenAI
from PIL import Image

from tests.fakes.faults import CreateFaults
from tests.fakes.media import write_test_mp4

MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
BLOCKED_MESSAGE = "Your request was blocked by our moderation system."
BODY = web.RequestKey("body", dict[str, Any])
FILES = web.RequestKey("files", dict[str, bytes])  # multipart uploads by field name

ChatOutput = dict[str, Any] | str | Callable[[dict[str, Any]], "dict[str, Any] | str"]


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    content_type: str
    headers: dict[str, str]


@dataclass
class FakeVideo:
    id: str
    model: str
    prompt: str
    seconds: str
    size: str
    created_at: int
    status: str = "queued"
    progress: int = 0
    polls: int = 0
    error: dict[str, Any] | None = None
    remixed_from: str | None = None
    input_reference: tuple[int, int] | None = None  # the size of the first-frame image it started from
    extended_from: str | None = None  # the video ``videos.extend`` continued
    blocked: str | None = None
    expired: bool = False
    completed_at: int | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "video",
            "model": self.model,
            "status": self.status,
            "progress": self.progress,
            "prompt": self.prompt,
            "seconds": self.seconds,
            "size": self.size,
            "created_at": self.created_at,
            "completed_at": self.completed_at,
            "expires_at": self.created_at + 3600,
            "error": self.error,
            "remixed_from_video_id": self.remixed_from,
        }


@dataclass
class _Failure:
    route: str | None
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int


@dataclass(frozen=True)
class ChatRefusal:
    """Script this to make the "model" refuse instead of answering."""

    text: str


@dataclass(frozen=True)
class WebhookDelivery:
    """One signed webhook delivery, byte for byte; posting it again is a replay."""

    body: str
    headers: dict[str, str]

    async def post(self, url: str) -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=self.body, headers=self.headers) as response,
        ):
            return response.status


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def sign_webhook(secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    """``v1,<base64 HMAC-SHA256>`` over ``{id}.{timestamp}.{body}``, keyed by the decoded secret."""
    key = base64.b64decode(secret.removeprefix("whsec_")) if secret.startswith("whsec_") else secret.encode()
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def default_reply(body: dict[str, Any]) -> dict[str, Any]:
    """A deterministic stand-in for the chat model: a question if the ask is vague, else a brief.

    It does not read the fixed format, so its ``seconds``/``aspect`` and shot lengths
    are deliberately off; the refiner has to correct them. Asked for an explainer (the request
    says ``"explainer": true``) it writes a short narration line per shot, key terms and a
    goal; asked to translate lines (``"translate_to"``) it answers one line per line, each
    tagged with the language (a stand-in's honest "translation").
    """
    request = extract_request(body)
    if "translate_to" in request:
        target = str(request["translate_to"])
        return {"lines": [f"[{target}] {line}" if line else "" for line in request.get("lines", [])]}
    reply = _brief_reply(request)
    if request.get("explainer") and reply["result"]["kind"] == "brief":
        reply["result"].update(
            key_terms=["laminar flow", "turbulent flow"],
            learning_goal="Tell smooth, layered flow from chaotic, mixing flow.",
            script_language="en",
        )
        for shot, line in zip(reply["result"]["shots"], EXPLAINER_LINES, strict=False):
            shot["narration"] = line
    return reply


EXPLAINER_LINES = (
    "Laminar flow moves in smooth layers.",
    "Turbulent flow swirls and mixes.",
    "Speed decides which one you get.",
)


def _brief_reply(request: dict[str, Any]) -> dict[str, Any]:
    text = str(request.get("text") or "")
    words = re.findall(r"\w+", text.lower())
    if len([w for w in words if w not in {"a", "an", "the", "make", "video", "me", "please"}]) < 2:
        return {"result": {"kind": "question", "question": "What should the video show?"}}
    return {
        "result": {
            "kind": "brief",
            "prompt": f"{text.strip()}, filmed as a polished, cinematic short.",
            "subject": text.strip()[:80],
            "setting": "a bright studio",
            "style": "cinematic",
            "lighting": "soft key light",
            "camera": "slow dolly-in",
            "negative_prompt": "blur, watermarks",
            "seconds": 10,
            "aspect": "1:1",
            "shots": [
                {"description": "Opening wide shot", "camera": "wide", "seconds": 3},
                {"description": "Close detail", "camera": "macro", "seconds": 3},
                {"description": "Closing hero frame", "camera": "push-in", "seconds": 4},
            ],
        }
    }


def extract_request(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON inside the last user message's ``<request>`` block (empty if there is none)."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    content = users[-1]["content"] if users else ""
    match = re.search(r"<request>\s*(.*?)\s*</request>", str(content), re.DOTALL)
    return json.loads(match.group(1)) if match else {}


class FakeOpenAI:
    """The fake server. Use ``async with FakeOpenAI(workdir) as fake:``."""

    def __init__(
        self,
        workdir: Path,
        *,
        steps: int = 3,
        poll_after_ms: int = 1500,
        webhook_secret: str | None = None,
        encode_long_side: int = 320,
        encode_fps: int = 8,
    ) -> None:
        self.workdir = workdir
        self.steps = steps
        self.poll_after_ms = poll_after_ms
        self.webhook_secret = webhook_secret or new_webhook_secret()
        self.encode_long_side = encode_long_side
        self.encode_fps = encode_fps
        self.calls: list[Call] = []
        self.videos: dict[str, FakeVideo] = {}
        self.faults = CreateFaults()  # 504 after create, slow create, HTML pages, Idempotency-Key
        self.down = False
        self.flag_words: dict[str, str] = {}  # word -> moderation category it trips
        self.moderation_scores: dict[str, float] = {}  # category -> score of a flagged category
        self.content_file: Path | None = None
        self._chat_script: list[ChatOutput | ChatRefusal] = []
        self.missing_models: set[str] = set()  # GET /v1/models/{id} answers 404 for these
        self._failures: list[_Failure] = []
        self._stalls: dict[str, int] = {}
        self._block_next: str | None = None
        self._clips: dict[tuple[str, str], Path] = {}
        self._clip_lock = asyncio.Lock()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ life cycle

    async def __aenter__(self) -> FakeOpenAI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        middlewares = [self._middleware, self._videos_only_gate]
        app = web.Application(middlewares=middlewares, client_max_size=64 << 20)
        app.add_routes(
            [
                web.post("/v1/videos", self._create_video),
                web.post("/v1/videos/extensions", self._extend_video),
                web.get("/v1/videos", self._list_videos),
                web.get("/v1/videos/{video_id}", self._retrieve_video),
                web.get("/v1/videos/{video_id}/content", self._video_content),
                web.post("/v1/videos/{video_id}/remix", self._remix_video),
                web.post("/v1/chat/completions", self._chat_completions),
                web.post("/v1/moderations", self._moderations),
                web.post("/v1/audio/speech", self._audio_speech),  # see the audio.speech section
                web.get("/v1/models/{model}", self._model),
            ]
        )
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        """Stop listening: later requests see "connection refused", as with a provider that is down."""
        self._closing.set()
        self.faults.release_hangs()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def client(self, **kwargs: Any) -> AsyncOpenAI:
        """A real ``AsyncOpenAI`` whose only change is the base URL (no SDK retries by default)."""
        kwargs.setdefault("max_retries", 0)
        return AsyncOpenAI(api_key="sk-test", base_url=self.base_url, **kwargs)

    # ------------------------------------------------------------------ switches

    def fail(
        self,
        route: str | None,
        status: int,
        *,
        times: int = 1,
        code: str | None = None,
        message: str = "The fake was told to fail.",
        error_type: str = "invalid_request_error",
        retry_after: float | None = None,
    ) -> None:
        """Answer the next ``times`` requests on ``route`` with an OpenAI-style error.

        Routes: ``videos.create``, ``videos.retrieve``, ``videos.content``, ``videos.remix``,
        ``chat``, ``moderations``, ``audio.speech``; ``None`` matches any.
        """
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
        self._failures.append(_Failure(route, status, body, headers, times))

    def rate_limit(self, times: int = 1, *, retry_after: float = 2, route: str | None = None) -> None:
        self.fail(
            route,
            429,
            times=times,
            code="rate_limit_exceeded",
            error_type="requests",
            message="Rate limit reached for requests.",
            retry_after=retry_after,
        )

    def server_error(self, times: int = 1, *, status: int = 500, route: str | None = None) -> None:
        self.fail(
            route,
            status,
            times=times,
            code=None,
            error_type="server_error",
            message="The server had an error while processing your request.",
        )

    def refuse_create(self, message: str = BLOCKED_MESSAGE, code: str = "moderation_blocked") -> None:
        self.fail("videos.create", 400, code=code, message=message)

    def block_next_video(self, message: str = BLOCKED_MESSAGE) -> None:
        """The next created video is accepted, then fails with ``moderation_blocked`` when polled."""
        self._block_next = message

    def expire(self, video_id: str) -> None:
        self.videos[video_id].expired = True

    def stall(self, route: str, times: int = 1) -> None:
        """Hold the next ``times`` requests on ``route`` open without answering (until close)."""
        self._stalls[route] = self._stalls.get(route, 0) + times

    def script_chat(self, *outputs: ChatOutput | ChatRefusal) -> None:
        """Queue what the "model" answers next: a dict (sent as JSON), raw text, a callable
        taking the request body, or a :class:`ChatRefusal`. Unscripted calls use :func:`default_reply`."""
        self._chat_script.extend(outputs)

    def finish(
        self,
        video_id: str,
        *,
        failed: bool = False,
        code: str = "internal_error",
        message: str = "Video generation failed.",
    ) -> None:
        """Jump a job to its end, as if it had finished between polls."""
        video = self.videos[video_id]
        if failed:
            video.status, video.error = "failed", {"code": code, "message": message}
        else:
            video.status, video.progress, video.completed_at = "completed", 100, int(time.time())

    @property
    def created_videos(self) -> int:
        """How many video jobs were started (create and remix), i.e. how many would be billed."""
        return len(self.videos)

    def calls_to(self, method: str, path_pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(path_pattern, c.path)]

    # ------------------------------------------------------------------ video-only gateway mode
    # ``videos_only = True`` makes the fake a gateway that serves only ``/v1/videos…``, as an
    # Azure OpenAI video deployment does: chat completions and moderations answer 404 in
    # Azure's error shape. Requests are still recorded in :attr:`calls`.

    videos_only: bool = False

    @web.middleware
    async def _videos_only_gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.videos_only and not request.path.startswith("/v1/videos"):
            return web.json_response({"error": {"code": "404", "message": "Resource not found"}}, status=404)
        response: web.StreamResponse = await handler(request)
        return response

    # ------------------------------------------------------------------ webhooks

    def webhook_delivery(
        self,
        event_type: str,
        video_id: str,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> WebhookDelivery:
        """A webhook event signed the way OpenAI signs it (Standard Webhooks), ready to POST."""
        ts = int(time.time()) if timestamp is None else timestamp
        body = json.dumps(
            {
                "object": "event",
                "id": f"evt_{uuid.uuid4().hex}",
                "type": event_type,
                "created_at": ts,
                "data": {"id": video_id},
            }
        )
        webhook_id = f"wh_{uuid.uuid4().hex}"
        headers = {
            "content-type": "application/json",
            "user-agent": "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": sign_webhook(secret or self.webhook_secret, webhook_id, ts, body),
        }
        return WebhookDelivery(body, headers)

    async def send_webhook(
        self,
        url: str,
        event_type: str,
        video_id: str,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        tamper: bool = False,
    ) -> int:
        """Sign and POST a webhook event the way OpenAI delivers it; return the HTTP status."""
        delivery = self.webhook_delivery(event_type, video_id, secret=secret, timestamp=timestamp)
        if tamper:
            delivery = WebhookDelivery(delivery.body.replace(video_id, video_id + "x"), delivery.headers)
        return await delivery.post(url)

    # ------------------------------------------------------------------ plumbing

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        files: dict[str, bytes] = {}
        ctype = request.content_type
        if request.method == "POST":
            if ctype == "multipart/form-data":
                form = await request.post()
                files = {k: v.file.read() for k, v in form.items() if isinstance(v, web.FileField)}
                body = {
                    k: (v if isinstance(v, str) else f"<file {getattr(v, 'filename', '')}>")
                    for k, v in form.items()
                }
            elif request.can_read_body:
                raw = await request.read()
                body = json.loads(raw) if raw else None
        route = _route_name(request)
        self.calls.append(
            Call(
                request.method,
                request.path,
                dict(request.query),
                body,
                ctype,
                {k.lower(): v for k, v in request.headers.items()},
            )
        )
        request[BODY] = body if isinstance(body, dict) else {}
        request[FILES] = files
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") and not request.headers.get("api-key"):
            return _error(401, "You didn't provide an API key.", "invalid_request_error", None)
        if self.down:
            return _error(
                503,
                "The engine is currently overloaded, please try again later.",
                "server_error",
                "service_unavailable",
            )
        if self._stalls.get(route or "", 0) > 0:
            self._stalls[route or ""] -= 1
            await self._closing.wait()
            return _error(504, "stalled", "server_error", None)
        for failure in self._failures:
            if failure.times > 0 and failure.route in (None, route):
                failure.times -= 1
                return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        await self.faults.hang_if_due(route or "")
        html = self.faults.html_instead(route or "") if route != "videos.create" else None
        if html is not None:
            return html
        response: web.StreamResponse = await handler(request)
        return response

    async def _create_video(self, request: web.Request) -> web.Response:
        form = request[BODY]
        if "prompt" not in form:
            return _error(
                400,
                "Missing required parameter: 'prompt'.",
                "invalid_request_error",
                "missing_required_parameter",
            )
        key = request.headers.get("Idempotency-Key")
        earlier = self.faults.replay(key)
        if earlier is not None:  # a gateway that honours the key answers with the first job
            return web.json_response(self.videos[earlier].to_wire())
        video = FakeVideo(
            id=f"video_{uuid.uuid4().hex[:24]}",
            model=str(form.get("model", "sora-2")),
            prompt=str(form["prompt"]),
            seconds=str(form.get("seconds", "4")),
            size=str(form.get("size", "720x1280")),
            created_at=int(time.time()),
        )
        reference = request[FILES].get("input_reference")
        if reference is not None:
            # As the API does: the first frame must be an image of exactly the requested size.
            try:
                with Image.open(io.BytesIO(reference)) as image:
                    got = image.size
            except (OSError, ValueError):
                return _error(400, "input_reference is not an image.", "invalid_request_error", None)
            if f"{got[0]}x{got[1]}" != video.size:
                return _error(
                    400,
                    f"Inpaint image must match the requested width and height ({video.size}).",
                    "invalid_request_error",
                    "invalid_value",
                )
            video.input_reference = got
        video.blocked, self._block_next = self._block_next, None
        self.videos[video.id] = video
        self.faults.remember(key, video.id)
        late = await self.faults.after_create(
            json.dumps({"error": {"message": "Gateway timeout.", "type": "server_error", "code": None}})
        )
        return late or web.json_response(video.to_wire())

    async def _extend_video(self, request: web.Request) -> web.Response:
        """``POST /v1/videos/extensions``: a new video continuing a completed one."""
        body = request[BODY]
        ref = body.get("video")
        source = self.videos.get(str(ref.get("id"))) if isinstance(ref, dict) else None
        if source is None:
            return _error(404, "Video not found.", "invalid_request_error", "not_found")
        if source.status != "completed":
            return _error(400, "Only completed videos can be extended.", "invalid_request_error", None)
        video = FakeVideo(
            id=f"video_{uuid.uuid4().hex[:24]}",
            model=source.model,
            prompt=str(body.get("prompt", "")),
            seconds=str(body.get("seconds", "4")),
            size=source.size,
            created_at=int(time.time()),
            extended_from=source.id,
        )
        self.videos[video.id] = video
        return web.json_response(video.to_wire())

    async def _list_videos(self, request: web.Request) -> web.Response:
        """``GET /v1/videos?after=&limit=&order=``: a cursor page, newest first by default."""
        order = request.query.get("order", "desc")
        limit = int(request.query.get("limit", "20"))
        videos = sorted(self.videos.values(), key=lambda v: (v.created_at, v.id), reverse=order == "desc")
        after = request.query.get("after")
        if after:
            ids = [v.id for v in videos]
            videos = videos[ids.index(after) + 1 :] if after in ids else []
        page = videos[:limit]
        return web.json_response(
            {
                "object": "list",
                "data": [v.to_wire() for v in page],
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
                "has_more": len(videos) > limit,
            }
        )

    async def _retrieve_video(self, request: web.Request) -> web.Response:
        video = self.videos.get(request.match_info["video_id"])
        if video is None:
            return _error(404, "Video not found.", "invalid_request_error", "not_found")
        if video.status in ("queued", "in_progress"):
            video.polls += 1
            if video.polls > 1 and video.blocked:
                video.status, video.error = "failed", {"code": "moderation_blocked", "message": video.blocked}
            elif video.polls > self.steps:
                self.finish(video.id)
            elif video.polls > 1:
                video.status, video.progress = "in_progress", round(100 * (video.polls - 1) / self.steps)
        headers = {}
        if video.status in ("queued", "in_progress"):
            headers["openai-poll-after-ms"] = str(self.poll_after_ms)
        return web.json_response(video.to_wire(), headers=headers)

    async def _video_content(self, request: web.Request) -> web.StreamResponse:
        video = self.videos.get(request.match_info["video_id"])
        if video is None or video.expired:
            return _error(
                404, "The video content has expired or does not exist.", "invalid_request_error", "not_found"
            )
        if video.status != "completed":
            return _error(409, "The video is not ready yet.", "invalid_request_error", "video_not_ready")
        variant = request.query.get("variant", "video")
        if variant == "thumbnail":
            return web.Response(body=_thumbnail(video.size), content_type="image/jpeg")
        if variant != "video":
            return _error(400, f"Unsupported variant {variant!r}.", "invalid_request_error", None)
        path = self.content_file or await self._clip(video.seconds, video.size)
        return web.FileResponse(path, headers={"Content-Type": "video/mp4"})

    async def _remix_video(self, request: web.Request) -> web.Response:
        source = self.videos.get(request.match_info["video_id"])
        if source is None:
            return _error(404, "Video not found.", "invalid_request_error", "not_found")
        if source.status != "completed":
            return _error(400, "Only completed videos can be remixed.", "invalid_request_error", None)
        prompt = str(request[BODY].get("prompt", ""))
        video = FakeVideo(
            id=f"video_{uuid.uuid4().hex[:24]}",
            model=source.model,
            prompt=prompt,
            seconds=source.seconds,
            size=source.size,
            created_at=int(time.time()),
            remixed_from=source.id,
        )
        self.videos[video.id] = video
        return web.json_response(video.to_wire())

    async def _chat_completions(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = request[BODY]
        scripted = self._chat_script.pop(0) if self._chat_script else default_reply
        content: str | None
        refusal: str | None = None
        if isinstance(scripted, ChatRefusal):
            content, refusal = None, scripted.text
        else:
            output = scripted(body) if callable(scripted) else scripted
            content = output if isinstance(output, str) else json.dumps(output)
        return web.json_response(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", ""),
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": content,
                            "refusal": refusal,
                            "annotations": [],
                        },
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
            }
        )

    async def _moderations(self, request: web.Request) -> web.Response:
        body = request[BODY]
        inputs = body.get("input", "")
        texts = [inputs] if isinstance(inputs, str) else [str(i) for i in inputs]
        results = []
        for text in texts:
            hits = {
                category
                for word, category in self.flag_words.items()
                if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
            }
            results.append(
                {
                    "flagged": bool(hits),
                    "categories": {c: c in hits for c in MODERATION_CATEGORIES},
                    "category_scores": {
                        c: (self.moderation_scores.get(c, 0.91) if c in hits else 0.0004)
                        for c in MODERATION_CATEGORIES
                    },
                    "category_applied_input_types": {c: ["text"] for c in MODERATION_CATEGORIES},
                }
            )
        return web.json_response(
            {
                "id": f"modr-{uuid.uuid4().hex[:12]}",
                "model": body.get("model", "omni-moderation-latest"),
                "results": results,
            }
        )

    async def _model(self, request: web.Request) -> web.Response:
        """``GET /v1/models/{model}``: every model is served except those in ``missing_models``."""
        model = request.match_info["model"]
        if model in self.missing_models:
            return _error(
                404, f"The model '{model}' does not exist", "invalid_request_error", "model_not_found"
            )
        return web.json_response({"id": model, "object": "model", "created": 0, "owned_by": "openai"})

    # ------------------------------------------------------------------ audio.speech
    # POST /v1/audio/speech (JSON: model, input, voice, response_format, speed): a WAV (or raw
    # 24 kHz 16-bit PCM) of a voice-like sound whose length follows the words and the speed.

    async def _audio_speech(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = request[BODY]
        text, voice = str(body.get("input", "")), body.get("voice")
        if not body.get("model") or not text:
            return _error(400, "'model' and 'input' are required.", "invalid_request_error", None)
        if len(text) > 4096:
            return _error(400, "'input' is longer than 4096 characters.", "invalid_request_error", None)
        if voice not in SPEECH_VOICES and not (isinstance(voice, dict) and voice.get("id")):
            return _error(400, f"Invalid voice {voice!r}.", "invalid_request_error", "invalid_value")
        kind = body.get("response_format", "mp3")
        if kind not in ("wav", "pcm"):
            return _error(400, f"This fake speaks wav and pcm, not {kind}.", "invalid_request_error", None)
        pcm = speech_pcm(text, float(body.get("speed", 1.0)))
        if kind == "pcm":
            return web.Response(body=pcm, content_type="audio/pcm")
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(SPEECH_RATE)
            writer.writeframes(pcm)
        return web.Response(body=buffer.getvalue(), content_type="audio/wav")

    async def _clip(self, seconds: str, size: str) -> Path:
        async with self._clip_lock:
            key = (seconds, size)
            if key not in self._clips:
                width, height = (int(n) for n in size.split("x"))
                scale = min(1.0, self.encode_long_side / max(width, height))
                w, h = (round(width * scale / 2) * 2, round(height * scale / 2) * 2)
                path = self.workdir / f"fake_openai_{seconds}s_{size}.mp4"
                self._clips[key] = await asyncio.to_thread(
                    write_test_mp4, path, float(seconds), w, h, self.encode_fps
                )
            return self._clips[key]


SPEECH_VOICES = {
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
}
SPEECH_RATE = 24000  # what OpenAI's wav and pcm carry
SPEECH_WORDS_PER_SECOND = 2.6


def speech_pcm(text: str, speed: float = 1.0) -> bytes:
    """A voice-like sound: a 140 Hz buzz with its harmonics, one syllable-like swell per word."""
    words = max(1, len(text.split()))
    per_word = 1 / (SPEECH_WORDS_PER_SECOND * speed)
    t = np.arange(round(words * per_word * SPEECH_RATE)) / SPEECH_RATE
    buzz = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 6))
    swell = np.clip(np.sin(np.pi * (t % per_word) / per_word), 0, None) ** 0.5
    return (0.25 * buzz * swell * 32767 / 2).astype("<i2").tobytes()


def _route_name(request: web.Request) -> str | None:
    path, method = request.path, request.method
    if path == "/v1/videos" and method == "POST":
        return "videos.create"
    if path == "/v1/videos" and method == "GET":
        return "videos.list"
    if re.fullmatch(r"/v1/videos/[^/]+", path) and method == "GET":
        return "videos.retrieve"
    if re.fullmatch(r"/v1/videos/[^/]+/content", path):
        return "videos.content"
    if re.fullmatch(r"/v1/videos/[^/]+/remix", path):
        return "videos.remix"
    if path == "/v1/videos/extensions" and method == "POST":
        return "videos.extend"
    return {
        "/v1/chat/completions": "chat",
        "/v1/moderations": "moderations",
        "/v1/audio/speech": "audio.speech",
    }.get(path)


def _error(status: int, message: str, error_type: str, code: str | None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": error_type, "param": None, "code": code}}, status=status
    )


def _thumbnail(size: str) -> bytes:
    from PIL import Image

    width, height = (int(n) // 8 for n in size.split("x"))
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(buffer, format="JPEG")
    return buffer.getvalue()
