"""Open video models on the operator's own GPUs, through a ComfyUI server.

The wire protocol is ComfyUI's own (its ``server.py``): ``POST /prompt`` with the
filled graph, a ``client_id`` and a ``prompt_id`` derived from the render's
idempotency key; ``GET /history/{prompt_id}`` for outputs and the execution
status; ``GET /view?filename=&subfolder=&type=`` for the file; ``POST
/upload/image`` for a first frame; ``POST /interrupt`` (running) and ``POST /queue``
``{"delete": [...]}`` (waiting) to cancel; ``GET /queue`` for what is running and
waiting. Progress comes over the websocket ``/ws?clientId=…`` (``progress``,
``executing`` with ``node: null`` when a prompt is done, ``execution_error``);
when a prompt finishes, :attr:`ComfyUIProvider.on_finished` is called with its id
so the worker polls at once instead of waiting.

Capacity: an unreachable server, or more prompts waiting than ``max_queue`` (no
GPU free), is a ``CapacityError``, so the render moves to the next provider.

At most one job: the prompt id is a UUID derived from the idempotency key, so
:meth:`ComfyUIProvider.find` looks that very id up in the queue and the history
(exact). ComfyUI would still queue a second prompt with the same id, so
``idempotent_submit`` stays false.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from adapters.providers import faults
from adapters.providers.comfyui_workflow import Workflow
from adapters.providers.downloads import stream_url_to_file
from bot.errors import CapacityError, InvalidOptions, PermanentProviderError, ProviderError
from bot.ports import Capabilities, Continuity, ModelSpec, RemoteState, RemoteStatus, RenderSpec, Tier

log = logging.getLogger(__name__)

NAME = "comfyui"
LABEL = "ComfyUI"
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv")
_KEYS = uuid.UUID("6f1d3c1e-8a8e-4d5e-9a57-5c0d3e7b2a10")  # namespace for prompt ids from render keys


class ComfyUIProvider:
    """A :class:`~bot.ports.VideoProvider` for one ComfyUI server and one workflow."""

    name = NAME
    reconciliation = "exact"  # the prompt id is derived from the render's key

    def __init__(
        self,
        url: str,
        workflow: Workflow,
        *,
        price_per_second: float = 0.0,
        max_queue: int = 4,
        timeout: float = 30.0,
        poll_seconds: float = 5.0,
    ) -> None:
        self._url = url.rstrip("/")
        self._workflow = workflow
        self._price = price_per_second
        self._max_queue = max_queue
        self._timeout = timeout
        self._poll_seconds = poll_seconds
        self._client_id = uuid.uuid4().hex
        self._progress: dict[str, int] = {}
        self._session: aiohttp.ClientSession | None = None
        self._listener: asyncio.Task[None] | None = None
        self.on_finished: Callable[[str], object] | None = None

    def capabilities(self) -> Capabilities:
        wf = self._workflow
        model = ModelSpec(
            name=wf.model,
            durations=wf.durations,
            sizes=dict(wf.sizes),
            price_per_second=self._price,
            audio=wf.audio,
            continuity=frozenset({Continuity.FIRST_FRAME}) if wf.takes_first_frame else frozenset(),
            tier=Tier.DRAFT if wf.tier == "draft" else Tier.FINAL,
        )
        return Capabilities(NAME, (model,), default_model=wf.model, label=f"ComfyUI ({wf.model})")

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        if self._session is not None:
            await self._session.close()

    # ------------------------------------------------------------------ the port

    async def submit(self, spec: RenderSpec) -> str:
        values = self._values(spec)
        queue = await self._json("GET", "/queue", faults.CREATE, certain=True)
        waiting = len(queue.get("queue_pending", [])) if isinstance(queue, dict) else 0
        if waiting >= self._max_queue:
            raise CapacityError(
                f"ComfyUI has {waiting} prompts waiting (limit {self._max_queue}): no GPU free", provider=NAME
            )
        if spec.first_frame is not None:
            values["first_frame"] = await self._upload(spec.first_frame)
        prompt_id = _prompt_id(spec)
        self._ensure_listener()
        body = {"prompt": self._workflow.fill(values), "client_id": self._client_id, "prompt_id": prompt_id}
        answer = await self._json("POST", "/prompt", faults.CREATE, payload=body)
        if not isinstance(answer, dict) or answer.get("prompt_id") != prompt_id:
            raise faults.unexpected_response(NAME, faults.CREATE, answer, label=LABEL)
        return prompt_id

    async def status(self, remote_id: str) -> RemoteStatus:
        entry = await self._history(remote_id)
        if entry is None:
            lost = await self._unfinished(remote_id)
            if lost is not None:
                return lost
            # It may have finished between the two calls: the history has the last word.
            entry = await self._history(remote_id)
        if entry is None:
            return RemoteStatus(
                RemoteState.FAILED, error="ComfyUI no longer knows this prompt (restarted?)", charged=False
            )
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            return RemoteStatus(RemoteState.FAILED, error=_execution_error(status), charged=False)
        if not status.get("completed", False):
            return RemoteStatus(RemoteState.RUNNING, progress=99, poll_after=self._poll_seconds)
        try:
            _video_file(entry)
        except PermanentProviderError as exc:
            return RemoteStatus(RemoteState.FAILED, error=str(exc), charged=False)
        return RemoteStatus(RemoteState.COMPLETED, progress=100)  # cost: the estimate (operator's GPUs)

    async def _unfinished(self, remote_id: str) -> RemoteStatus | None:
        """Running or waiting in ComfyUI's queue, or ``None`` when the queue does not hold it."""
        queue = await self._json("GET", "/queue", "status")
        if remote_id in {item[1] for item in queue.get("queue_running", [])}:
            percent = self._progress.get(remote_id, 0)
            return RemoteStatus(RemoteState.RUNNING, progress=percent, poll_after=self._poll_seconds)
        if remote_id in {item[1] for item in queue.get("queue_pending", [])}:
            return RemoteStatus(RemoteState.QUEUED, poll_after=self._poll_seconds)
        return None

    async def download(self, remote_id: str, dest: Path) -> None:
        entry = await self._history(remote_id)
        if entry is None:
            raise PermanentProviderError(f"ComfyUI has no output for prompt {remote_id}", provider=NAME)
        file = _video_file(entry)
        where = {"subfolder": file.get("subfolder", ""), "type": file.get("type", "output")}
        query = urlencode({"filename": file["filename"], **where})
        await stream_url_to_file(
            f"{self._url}/view?{query}", dest, provider=NAME, label=LABEL, read_timeout=self._timeout
        )

    async def find(self, spec: RenderSpec, *, since: datetime | None = None) -> str | None:
        """The prompt an ambiguous submit queued: its id is derived from the key, so it is exact."""
        self._values(spec)
        prompt_id = _prompt_id(spec)
        if await self._history(prompt_id) is not None:
            return prompt_id
        queue = await self._json("GET", "/queue", "find")
        queued = {item[1] for key in ("queue_running", "queue_pending") for item in queue.get(key, [])}
        return prompt_id if prompt_id in queued else None

    async def cancel(self, remote_id: str) -> None:
        """Interrupt it if it is running, take it out of the queue if it is waiting."""
        queue = await self._json("GET", "/queue", "cancel")
        if remote_id in {item[1] for item in queue.get("queue_running", [])}:
            await self._json("POST", "/interrupt", "cancel", payload={"prompt_id": remote_id})
        elif remote_id in {item[1] for item in queue.get("queue_pending", [])}:
            await self._json("POST", "/queue", "cancel", payload={"delete": [remote_id]})

    # ------------------------------------------------------------------ helpers

    def _values(self, spec: RenderSpec) -> dict[str, Any]:
        """The placeholder values for ``spec``; refuses what the workflow cannot make."""
        wf = self._workflow
        if spec.model != wf.model:
            raise InvalidOptions(f"this ComfyUI workflow makes `{wf.model}`, not `{spec.model}`.")
        if spec.seconds not in wf.durations:
            allowed = ", ".join(str(d) for d in wf.durations)
            raise InvalidOptions(
                f"ComfyUI ({wf.model}) makes clips of {allowed} seconds, not {spec.seconds}."
            )
        if wf.sizes.get(spec.aspect) != spec.size:
            raise InvalidOptions(f"ComfyUI ({wf.model}) cannot make a {spec.aspect} clip at {spec.size}.")
        if wf.takes_first_frame and spec.first_frame is None:
            raise InvalidOptions(f"ComfyUI ({wf.model}) starts from an image, and none was given.")
        if spec.first_frame is not None and not wf.takes_first_frame:
            raise InvalidOptions(f"ComfyUI ({wf.model}) cannot start from a given frame.")
        if spec.last_frame is not None or spec.extend_remote_id:
            raise InvalidOptions(f"ComfyUI ({wf.model}) cannot end on a frame or extend a clip.")
        width, height = (int(v) for v in spec.size.split("x"))
        return {
            "prompt": spec.prompt or spec.brief.prompt,
            "negative_prompt": spec.brief.negative_prompt,
            "seed": spec.seed if spec.seed is not None else 0,
            "frames": spec.seconds * wf.fps + 1,
            "fps": wf.fps,
            "width": width,
            "height": height,
        }

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            bounds = aiohttp.ClientTimeout(total=None, sock_connect=self._timeout, sock_read=self._timeout)
            self._session = aiohttp.ClientSession(timeout=bounds)
        return self._session

    async def _json(
        self, method: str, path: str, action: str, *, payload: Any = None, certain: bool = False
    ) -> Any:
        """One API call; ``certain`` marks a call that starts nothing (its failure is never uncertain)."""
        kind = "status" if certain else action
        try:
            async with self._http().request(method, self._url + path, json=payload) as response:
                text = await response.text()
                if response.status >= 400:
                    raise _status_error(response.status, text, kind)
                if not text.strip():
                    return {}
                try:
                    return json.loads(text)
                except ValueError as exc:
                    raise faults.unexpected_response(NAME, kind, text, label=LABEL) from exc
        except aiohttp.ClientConnectorError as exc:
            raise faults.unreachable(NAME, exc, label=LABEL) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise faults.in_transit(NAME, kind, repr(exc), label=LABEL) from exc

    async def _history(self, prompt_id: str) -> dict[str, Any] | None:
        history = await self._json("GET", f"/history/{prompt_id}", "status")
        entry = history.get(prompt_id) if isinstance(history, dict) else None
        return entry if isinstance(entry, dict) else None

    async def _upload(self, image: Path) -> str:
        form = aiohttp.FormData()
        form.add_field("image", await asyncio.to_thread(image.read_bytes), filename=f"clipdesk_{image.name}")
        form.add_field("overwrite", "true")
        try:
            async with self._http().post(self._url + "/upload/image", data=form) as response:
                if response.status >= 400:
                    raise _status_error(response.status, await response.text(), "upload")
                answer = await response.json(content_type=None)
        except aiohttp.ClientConnectorError as exc:
            raise faults.unreachable(NAME, exc, label=LABEL) from exc
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise faults.in_transit(NAME, "upload", repr(exc), label=LABEL) from exc
        name = str(answer.get("name", ""))
        return f"{answer['subfolder']}/{name}" if answer.get("subfolder") else name

    def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="comfyui-websocket")

    async def _listen(self) -> None:
        """Follow ``/ws?clientId=…``: progress per prompt, and a poke when one finishes."""
        ws_url = self._url.replace("http", "ws", 1) + f"/ws?clientId={self._client_id}"
        while True:
            try:
                async with self._http().ws_connect(ws_url, heartbeat=30) as ws:
                    async for message in ws:
                        if message.type == aiohttp.WSMsgType.TEXT:
                            self._on_message(json.loads(message.data))
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                log.debug("ComfyUI websocket dropped (%r); polling covers the gap", exc)
            await asyncio.sleep(self._poll_seconds)

    def _on_message(self, message: dict[str, Any]) -> None:
        data = message.get("data") or {}
        prompt_id = str(data.get("prompt_id", ""))
        kind = message.get("type")
        if kind == "progress" and prompt_id and data.get("max"):
            self._progress[prompt_id] = min(int(99 * data["value"] / data["max"]), 99)
        finished = (kind == "executing" and data.get("node") is None) or kind in (
            "execution_success",
            "execution_error",
            "execution_interrupted",
        )
        if finished and prompt_id and self.on_finished is not None:
            self.on_finished(prompt_id)


def _prompt_id(spec: RenderSpec) -> str:
    return str(uuid.uuid5(_KEYS, spec.idempotency_key or spec.render_id))


def _status_error(status: int, text: str, action: str) -> ProviderError:
    try:
        body = json.loads(text)
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    message = str(error.get("message") if isinstance(error, dict) else error or text[:300])
    if status == 400 and isinstance(body, dict) and body.get("node_errors"):
        details = "; ".join(
            f"node {node}: {e.get('message', e)}"
            for node, info in body["node_errors"].items()
            for e in info.get("errors", [])
        )
        refusal = f"ComfyUI refused the workflow: {message} {details}".strip()
        return PermanentProviderError(refusal, provider=NAME)
    return faults.status_error(NAME, action, status, message, label=LABEL)


def _execution_error(status: dict[str, Any]) -> str:
    for kind, data in status.get("messages") or []:
        if kind == "execution_error" and isinstance(data, dict):
            return f"ComfyUI failed in {data.get('node_type', 'a node')}: {data.get('exception_message', '')}"
    return "ComfyUI reported an error while running the workflow"


def _video_file(entry: dict[str, Any]) -> dict[str, Any]:
    """The first video the prompt wrote; an image-only output is a clear, permanent error."""
    files = [
        item
        for output in (entry.get("outputs") or {}).values()
        for key in ("videos", "gifs", "images")
        for item in output.get(key, [])
        if isinstance(item, dict) and item.get("filename")
    ]
    for item in files:
        if str(item.get("format", "")).startswith("video/") or str(item["filename"]).lower().endswith(
            VIDEO_SUFFIXES
        ):
            return item
    if files:
        raise PermanentProviderError(
            f"the ComfyUI workflow produced an image ({files[0]['filename']}), not a video: "
            "end it with a video node (SaveVideo or VHS_VideoCombine)",
            provider=NAME,
        )
    raise PermanentProviderError("the ComfyUI workflow finished without any output", provider=NAME)
