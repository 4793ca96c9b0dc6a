"""A local fake ComfyUI server speaking its HTTP and websocket protocol (ComfyUI's ``server.py``).

* ``POST /prompt`` ``{"prompt", "client_id", "prompt_id"?}`` → ``{"prompt_id", "number",
  "node_errors"}``; a graph node without ``class_type`` answers 400 with ``node_errors``.
* ``GET /queue`` → ``{"queue_running": [[number, id, prompt, extra, outputs]], "queue_pending": …}``;
  ``POST /queue`` ``{"delete": [ids]}``; ``POST /interrupt`` ``{"prompt_id"?}``.
* ``GET /history/{id}`` → ``{id: {"prompt", "outputs", "status": {"status_str", "completed",
  "messages"}}}`` once the prompt has run (``{}`` before).
* ``GET /view?filename=&subfolder=&type=`` serves the output; ``POST /upload/image`` stores an image.
* ``GET /ws?clientId=…``: ``status``, ``execution_start``, ``progress`` (value/max), ``executing``
  (``node: null`` when the prompt is done), ``execution_success`` / ``execution_error``.

One prompt runs at a time, :attr:`FakeComfyUI.step_seconds` per sampling step, in the
fake's own task. The clip it writes takes its length and shape from the filled graph:
it reads ``width``, ``height``, ``length``/``frames``/``num_frames`` and ``fps``/``frame_rate``
from whatever nodes carry them, as a real sampler would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.faults import CreateFaults
from tests.fakes.loopback import LoopbackServer
from tests.fakes.media import ClipCache

FRAME_KEYS = ("length", "frames", "num_frames", "video_frames")
FPS_KEYS = ("fps", "frame_rate", "frames_per_second")


@dataclass
class FakePrompt:
    id: str
    number: int
    graph: dict[str, Any]
    client_id: str
    state: str = "pending"  # pending, running, success, error, interrupted


@dataclass
class FakeComfyUI:
    """The fake server. Switches: ``steps``, ``step_seconds``, ``hold`` (a running prompt never ends
    until released), ``fail_node`` (execution error), ``image_output``, ``busy`` (extra prompts
    that keep the queue long: no GPU free)."""

    steps: int = 4
    step_seconds: float = 0.02
    hold: bool = False
    fail_node: bool = False
    image_output: bool = False
    busy: int = 0
    prompts: dict[str, FakePrompt] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    history_calls: dict[str, int] = field(default_factory=dict)  # prompt id -> status polls
    faults: CreateFaults = field(default_factory=CreateFaults)  # HTML pages, hangs, 504 after queueing
    _server: LoopbackServer = field(default_factory=LoopbackServer)
    _clips: ClipCache = field(default_factory=lambda: ClipCache("fakecomfy_"))
    _sockets: dict[str, list[web.WebSocketResponse]] = field(default_factory=dict)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)
    _runner: asyncio.Task[None] | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _files: dict[str, bytes] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    async def start(self) -> FakeComfyUI:
        app = web.Application()
        app.router.add_post("/prompt", self._prompt)
        app.router.add_get("/queue", self._queue)
        app.router.add_post("/queue", self._queue_edit)
        app.router.add_post("/interrupt", self._interrupt)
        app.router.add_get("/history/{id}", self._history)
        app.router.add_get("/view", self._view)
        app.router.add_post("/upload/image", self._upload)
        app.router.add_get("/ws", self._ws)
        await self._server.open(app, "fakecomfy_")
        self._runner = asyncio.create_task(self._run())
        return self

    async def stop(self) -> None:
        self.faults.release_hangs()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        for sockets in self._sockets.values():
            for ws in sockets:
                await ws.close()
        await self._server.close()
        self._clips.close()

    async def __aenter__(self) -> FakeComfyUI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def release(self) -> None:
        self.hold = False
        self._wake.set()

    def submitted(self) -> list[FakePrompt]:
        return list(self.prompts.values())

    def api_calls(self) -> int:
        return len([c for c in self.calls if c[1] != "/ws"])

    # ------------------------------------------------------------------ HTTP

    async def _prompt(self, request: web.Request) -> web.Response:
        self.calls.append(("POST", "/prompt"))
        body = await request.json()
        graph = body.get("prompt")
        errors = {
            key: {"errors": [{"message": "node has no class_type"}], "class_type": None}
            for key, node in (graph or {}).items()
            if not isinstance(node, dict) or "class_type" not in node
        }
        if not isinstance(graph, dict) or not graph or errors:
            error = {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed"}
            return web.json_response({"error": error, "node_errors": errors}, status=400)
        prompt = FakePrompt(str(body.get("prompt_id") or uuid.uuid4()), next(self._numbers), graph, "")
        prompt.client_id = str(body.get("client_id", ""))
        self.prompts[prompt.id] = prompt
        self._wake.set()
        late = await self.faults.after_create('{"error": "upstream timed out"}')
        return late or web.json_response({"prompt_id": prompt.id, "number": prompt.number, "node_errors": {}})

    def _queue_items(self, state: str) -> list[list[Any]]:
        items = [[p.number, p.id, p.graph, {"client_id": p.client_id}, []] for p in self.prompts.values()]
        chosen = [item for item, p in zip(items, self.prompts.values(), strict=True) if p.state == state]
        if state == "pending":
            chosen += [[-1, f"busy-{i}", {}, {}, []] for i in range(self.busy)]
        return chosen

    async def _queue(self, request: web.Request) -> web.Response:
        self.calls.append(("GET", "/queue"))
        return web.json_response(
            {"queue_running": self._queue_items("running"), "queue_pending": self._queue_items("pending")}
        )

    async def _queue_edit(self, request: web.Request) -> web.Response:
        self.calls.append(("POST", "/queue"))
        for prompt_id in (await request.json()).get("delete", []):
            if prompt_id in self.prompts and self.prompts[prompt_id].state == "pending":
                self.prompts[prompt_id].state = "interrupted"
                self.interrupted.append(prompt_id)
        return web.Response(status=200)

    async def _interrupt(self, request: web.Request) -> web.Response:
        self.calls.append(("POST", "/interrupt"))
        body = await request.json() if request.can_read_body else {}
        for prompt in self.prompts.values():
            if prompt.state == "running" and body.get("prompt_id") in (None, prompt.id):
                prompt.state = "interrupted"
                self.interrupted.append(prompt.id)
        self._wake.set()
        return web.Response(status=200)

    async def _history(self, request: web.Request) -> web.Response:
        self.calls.append(("GET", "/history"))
        await self.faults.hang_if_due("status")
        html = self.faults.html_instead("status")
        if html is not None:
            return html
        prompt = self.prompts.get(request.match_info["id"])
        self.history_calls[request.match_info["id"]] = self.history_calls.get(request.match_info["id"], 0) + 1
        if prompt is None or prompt.state not in ("success", "error", "interrupted"):
            return web.json_response({})
        messages: list[list[Any]] = [["execution_start", {"prompt_id": prompt.id}]]
        outputs: dict[str, Any] = {}
        if prompt.state == "error":
            messages.append(
                [
                    "execution_error",
                    {"prompt_id": prompt.id, "node_type": "KSampler", "exception_message": "CUDA OOM"},
                ]
            )
        elif prompt.state == "success":
            name = f"clipdesk_{prompt.id[:8]}_00001_.{'png' if self.image_output else 'mp4'}"
            kind = "images" if self.image_output else "gifs"
            item = {"filename": name, "subfolder": "video", "type": "output"}
            if not self.image_output:
                item["format"] = "video/h264-mp4"
            outputs = {"9": {kind: [item]}}
        status = {"status_str": "error" if prompt.state == "error" else "success", "completed": True}
        return web.json_response(
            {
                prompt.id: {
                    "prompt": [prompt.number, prompt.id, prompt.graph, {}, ["9"]],
                    "outputs": outputs,
                    "status": {**status, "messages": messages},
                }
            }
        )

    async def _view(self, request: web.Request) -> web.Response:
        self.calls.append(("GET", "/view"))
        name = request.query.get("filename", "")
        if request.query.get("type") != "output" or name not in self._files:
            return web.Response(status=404)
        kind = "image/png" if name.endswith(".png") else "video/mp4"
        return web.Response(body=self._files[name], content_type=kind)

    async def _upload(self, request: web.Request) -> web.Response:
        self.calls.append(("POST", "/upload/image"))
        form = await request.post()
        image = form["image"]
        assert isinstance(image, web.FileField)
        self.uploads[image.filename] = image.file.read()
        return web.json_response({"name": image.filename, "subfolder": "", "type": "input"})

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        self.calls.append(("GET", "/ws"))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        client = request.query.get("clientId", "")
        self._sockets.setdefault(client, []).append(ws)
        status = {"status": {"exec_info": {"queue_remaining": 0}}, "sid": client}
        await ws.send_json({"type": "status", "data": status})
        async for message in ws:
            if message.type == WSMsgType.ERROR:
                break
        self._sockets[client].remove(ws)
        return ws

    # ------------------------------------------------------------------ the "GPU"

    async def _send(self, prompt: FakePrompt, kind: str, data: dict[str, Any]) -> None:
        for ws in list(self._sockets.get(prompt.client_id, [])):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json({"type": kind, "data": {**data, "prompt_id": prompt.id}})

    async def _run(self) -> None:
        while True:
            waiting = [p for p in self.prompts.values() if p.state == "pending"]
            if not waiting:
                self._wake.clear()
                await self._wake.wait()
                continue
            prompt = min(waiting, key=lambda p: p.number)
            prompt.state = "running"
            await self._send(prompt, "execution_start", {})
            for step in range(1, self.steps + 1):
                await asyncio.sleep(self.step_seconds)
                while self.hold and prompt.state == "running":
                    self._wake.clear()
                    await self._wake.wait()
                if prompt.state != "running":
                    break
                await self._send(prompt, "progress", {"value": step, "max": self.steps, "node": "3"})
            if prompt.state == "running":
                await self._finish(prompt)
            await self._send(prompt, "executing", {"node": None})

    async def _finish(self, prompt: FakePrompt) -> None:
        if self.fail_node:
            prompt.state = "error"
            await self._send(prompt, "execution_error", {"node_type": "KSampler"})
            return
        values = _shape(prompt.graph)
        name = f"clipdesk_{prompt.id[:8]}_00001_.{'png' if self.image_output else 'mp4'}"
        if self.image_output:
            self._files[name] = b"\x89PNG\r\n\x1a\n"
        else:
            wide, tall = values["width"] > values["height"], values["height"] > values["width"]
            aspect = "16:9" if wide else "9:16" if tall else "1:1"
            self._files[name] = await self._clips.clip((values["frames"] - 1) / values["fps"], aspect)
        prompt.state = "success"
        await self._send(prompt, "execution_success", {})


def _shape(graph: dict[str, Any]) -> dict[str, int]:
    found: dict[str, int] = {"width": 848, "height": 480, "frames": 97, "fps": 24}
    for node in graph.values():
        for key, value in (node.get("inputs") or {}).items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                continue
            if key in ("width", "height"):
                found[key] = int(value)
            elif key in FRAME_KEYS:
                found["frames"] = int(value)
            elif key in FPS_KEYS:
                found["fps"] = int(value)
    return found
