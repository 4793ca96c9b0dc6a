"""A local fake of Slack: the Web API methods clipdesk calls, Socket Mode, and requests as Slack sends them.

Wire shapes read from slack_sdk 3.48 (``web/async_client.py``: which methods
send JSON, form params or query strings; ``files_upload_v2``'s three steps;
``socket_mode/aiohttp``: hello, envelopes, acks) and slack-bolt 1.30
(``request/``, ``middleware/request_verification``), and Slack's docs:

* ``POST /api/{method}`` (``GET`` too) with ``Authorization: Bearer xoxb-…``:
  ``auth.test``, ``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``,
  ``views.open``, ``views.update``, ``files.getUploadURLExternal`` →
  ``POST /upload/{file_id}`` → ``files.completeUploadExternal``,
  ``usergroups.users.list``, and ``apps.connections.open`` (with the
  ``xapp-…`` token) which returns ``ws://…/socket-mode``. Like Slack, API
  errors are HTTP 200 with ``{"ok": false, "error": …}``; a rate limit is HTTP
  429 with ``Retry-After``.
* The Socket Mode websocket says ``hello``, sends envelopes
  (``slash_commands``, ``interactive``, ``events_api``) and records the
  app's acks by ``envelope_id``.
* ``build_*`` make requests exactly as Slack sends them over HTTP:
  slash commands form-encoded, interactivity as ``payload=<json>``, the
  Events API as JSON, all signed with the v0 scheme
  (``v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")``); the same
  payloads go into Socket Mode envelopes.

Every Web API call is recorded in :attr:`FakeSlack.calls`; what the bot
posted is kept per channel and thread, with every version of an updated
message.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
import yaml
from aiohttp import web

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
SIGNING_SECRET = "fake-signing-secret"
TEAM = "T0FAKE"
BOT_USER = "U0CLIPDESK"
BOT_ID = "B0CLIPDESK"
APP_ID = "A0CLIPDESK"

# The bot scopes deploy/slack/manifest.yaml asks for: what an app installed from it is granted.
MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack" / "manifest.yaml"
MANIFEST_SCOPES: tuple[str, ...] = tuple(
    yaml.safe_load(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"]
)

_BLOCK_TYPES = {"section", "actions", "context", "divider", "header", "image", "input", "video", "rich_text"}


@dataclass
class ApiCall:
    """One Web API call as the fake saw it (``status`` 429 when it was rate limited)."""

    method: str
    params: dict[str, Any]
    token: str | None
    status: int = 200


class _LostAnswer(Exception):
    """The fake did the work but answers as if it had failed."""


@dataclass
class Posted:
    """A message the bot posted; ``versions`` holds every (text, blocks) it had, oldest first."""

    channel: str
    ts: str
    thread_ts: str | None
    text: str
    blocks: list[dict[str, Any]]
    ephemeral_to: str | None = None
    versions: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None  # chat.postMessage's message metadata, as Slack keeps it

    @property
    def headline(self) -> str:
        """The first line of the message's text."""
        return self.text.split("\n", 1)[0]

    def buttons(self) -> list[dict[str, Any]]:
        return [
            element
            for block in self.blocks
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            if element.get("type") == "button"
        ]

    def menus(self) -> list[dict[str, Any]]:
        """The message's select menus (``static_select`` elements)."""
        return [
            element
            for block in self.blocks
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            if element.get("type") == "static_select"
        ]

    def button(self, action_id: str) -> dict[str, Any]:
        for button in self.buttons():
            if button["action_id"] == action_id:
                return button
        raise LookupError(f"no button {action_id} in {self.text!r}")

    def all_text(self) -> str:
        """Everything a person reads in the message: the blocks' text, fields and context."""
        parts: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
                    parts.append(str(node["text"]))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(self.blocks)
        return "\n".join(parts) or self.text


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str = ""
    channel: str | None = None
    thread_ts: str | None = None


@dataclass
class SlackRequest:
    """One request as Slack would send it: the signed HTTP form and the Socket Mode envelope."""

    body: str
    headers: dict[str, str]
    envelope_type: str
    payload: dict[str, Any]
    retry_num: int | None = None


class FakeSlack:
    """Slack's Web API and Socket Mode on ``127.0.0.1`` (random port).

    Attributes a test may set at any time:
        usergroups: group id → member user ids (``usergroups.users.list``).
        upload_limit: the upload URL answers 413 for larger files (``None``: no limit).
        not_member: channels where the bot may not post (``not_in_channel``).
    """

    def __init__(self, *, signing_secret: str = SIGNING_SECRET, team: str = TEAM) -> None:
        self.signing_secret = signing_secret
        self.team = team
        self.calls: list[ApiCall] = []
        self.messages: list[Posted] = []
        self.ephemeral: list[Posted] = []
        self.views: list[dict[str, Any]] = []
        self.lose_post_answers = 0  # chat.postMessage posts, then answers 500 this many times
        # The same, only for messages whose text starts with the key: text start → times.
        self.lose_post_answers_to: dict[str, int] = {}
        self.files: dict[str, UploadedFile] = {}
        self.responses: list[dict[str, Any]] = []  # what was posted to response_url
        self.usergroups: dict[str, list[str]] = {}
        self.upload_limit: int | None = None
        self.not_member: set[str] = set()
        self.acks: dict[str, dict[str, Any] | None] = {}
        self._rate_limits: dict[str, tuple[int, int]] = {}
        self._ids = itertools.count(1)
        self._ack_events: dict[str, asyncio.Event] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_ready = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeSlack:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._granted_scopes])
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/commands/{hook}", self._response_url)
        app.router.add_get("/socket-mode", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 0) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 429 and ``Retry-After``."""
        self._rate_limits[method] = (times, retry_after)

    # ------------------------------------------------------------------ granted scopes
    # Slack reports a token's scopes on every Web API answer in the ``x-oauth-scopes`` header
    # (comma-separated); `clipdesk doctor` compares them with the app manifest's. Set
    # ``scopes`` to what the installed app was granted.

    scopes: tuple[str, ...] = MANIFEST_SCOPES

    @web.middleware
    async def _granted_scopes(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        if request.path.startswith("/api/"):
            response.headers["x-oauth-scopes"] = ",".join(self.scopes)
        return response

    # ------------------------------------------------------------------ what the bot did

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method and c.status == 200]

    def thread(self, channel: str, thread_ts: str) -> list[Posted]:
        """The thread's replies the bot posted, in order (without the parent)."""
        return [m for m in self.messages if m.channel == channel and m.thread_ts == thread_ts]

    def parents(self, channel: str) -> list[Posted]:
        return [m for m in self.messages if m.channel == channel and m.thread_ts is None]

    def message(self, channel: str, ts: str) -> Posted:
        for m in self.messages:
            if m.channel == channel and m.ts == ts:
                return m
        raise LookupError(f"no message {channel}:{ts}")

    def ephemeral_to(self, user: str) -> list[str]:
        return [m.all_text() for m in self.ephemeral if m.ephemeral_to == user]

    # ------------------------------------------------------------------ Web API

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                params.update(json.loads(raw))
            else:
                params.update(parse_qsl(raw.decode()))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or params.get("token")
        limited = self._rate_limits.get(method)
        if limited and limited[0] > 0:
            self._rate_limits[method] = (limited[0] - 1, limited[1])
            self.calls.append(ApiCall(method, params, token, status=429))
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(limited[1])}
            )
        self.calls.append(ApiCall(method, params, token))
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != expected:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        try:
            result = handler(params)
        except _ApiError as exc:
            return web.json_response({"ok": False, "error": exc.code})
        except _LostAnswer:
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        return web.json_response({"ok": True, **result})

    def _ts(self) -> str:
        n = next(self._ids)
        return f"{1_700_000_000 + n}.{n:06d}"

    def _m_auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://fake.slack.com/",
            "team": "Fake Team",
            "user": "clipdesk",
            "team_id": self.team,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = _need(p, "channel")
        if channel in self.not_member:
            raise _ApiError("not_in_channel")
        text, blocks = _content(p)
        thread = p.get("thread_ts") or None
        if thread and not any(m.channel == channel and m.ts == thread for m in self.messages):
            raise _ApiError("thread_not_found")
        posted = Posted(channel, self._ts(), thread, text, blocks, metadata=_json(p.get("metadata")) or None)
        posted.versions.append((text, blocks))
        self.messages.append(posted)
        if self.lose_post_answers:
            # The message is in the channel, but the answer never reaches the caller (a crash, a
            # cut connection): exactly the case an idempotent poster must survive.
            self.lose_post_answers -= 1
            raise _LostAnswer
        for start, times in self.lose_post_answers_to.items():
            if times and text.startswith(start):
                self.lose_post_answers_to[start] = times - 1
                raise _LostAnswer
        return {"channel": channel, "ts": posted.ts, "message": {"text": text, "ts": posted.ts}}

    def _m_conversations_history(self, p: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages of a channel, newest first; metadata only with ``include_all_metadata``."""
        channel = _need(p, "channel")
        limit = int(p.get("limit") or 100)
        with_metadata = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [m for m in reversed(self.messages) if m.channel == channel and not m.thread_ts][:limit]
        messages = []
        for m in found:
            item: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text, "bot_id": BOT_ID}
            if with_metadata and m.metadata:
                item["metadata"] = m.metadata
            messages.append(item)
        return {"messages": messages, "has_more": False}

    def _m_conversations_replies(self, p: dict[str, Any]) -> dict[str, Any]:
        """A thread: its parent, then its replies oldest first; metadata with ``include_all_metadata``."""
        channel, ts = _need(p, "channel"), _need(p, "ts")
        limit = int(p.get("limit") or 1000)
        with_metadata = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        parent = [m for m in self.messages if m.channel == channel and m.ts == ts]
        if not parent:
            raise _ApiError("thread_not_found")
        found = (parent + [m for m in self.messages if m.channel == channel and m.thread_ts == ts])[:limit]
        messages = []
        for m in found:
            item: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text, "bot_id": BOT_ID}
            if m.thread_ts:
                item["thread_ts"] = m.thread_ts
            if with_metadata and m.metadata:
                item["metadata"] = m.metadata
            messages.append(item)
        return {"messages": messages, "has_more": False}

    def _m_chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, ts = _need(p, "channel"), _need(p, "ts")
        try:
            posted = self.message(channel, ts)
        except LookupError:
            raise _ApiError("message_not_found") from None
        posted.text, posted.blocks = _content(p)
        posted.versions.append((posted.text, posted.blocks))
        return {"channel": channel, "ts": ts, "text": posted.text}

    def _m_chat_postEphemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, user = _need(p, "channel"), _need(p, "user")
        if channel in self.not_member:
            raise _ApiError("not_in_channel")
        text, blocks = _content(p)
        posted = Posted(channel, self._ts(), p.get("thread_ts"), text, blocks, ephemeral_to=user)
        self.ephemeral.append(posted)
        return {"message_ts": posted.ts}

    def _m_views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        _need(p, "trigger_id")
        view = _json(p.get("view"))
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise _ApiError("invalid_arguments")
        _check_modal(view)
        view = {**view, "id": f"V{next(self._ids):08d}", "team_id": self.team, "app_id": APP_ID}
        self.views.append(view)
        return {"view": view}

    def _m_views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        view = _json(p.get("view"))
        view_id = p.get("view_id")
        for i, old in enumerate(self.views):
            if old["id"] == view_id:
                self.views[i] = {**view, "id": view_id}
                return {"view": self.views[i]}
        raise _ApiError("not_found")

    def _m_files_getUploadURLExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        filename, length = _need(p, "filename"), int(_need(p, "length"))
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = UploadedFile(file_id, filename, length)
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        done = []
        for item in _json(_need(p, "files")):
            upload = self.files.get(item["id"])
            if upload is None or upload.data is None:
                raise _ApiError("file_not_found")
            upload.title = item.get("title") or upload.filename
            upload.channel = p.get("channel_id")
            upload.thread_ts = p.get("thread_ts")
            done.append(
                {
                    "id": upload.id,
                    "name": upload.filename,
                    "title": upload.title,
                    "size": len(upload.data),
                    "permalink": f"https://fake.slack.com/files/{upload.id}",
                }
            )
        return {"files": done}

    def _m_usergroups_users_list(self, p: dict[str, Any]) -> dict[str, Any]:
        group = _need(p, "usergroup")
        if group not in self.usergroups:
            raise _ApiError("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def _m_apps_connections_open(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"ws://{self.url.removeprefix('http://')}/socket-mode?ticket={uuid.uuid4().hex}"}

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self.files.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="no such upload")
        data = await request.read()
        if self.upload_limit is not None and len(data) > self.upload_limit:
            return web.Response(status=413, text="Request Entity Too Large")
        if len(data) != upload.length:
            return web.Response(status=400, text=f"expected {upload.length} bytes, got {len(data)}")
        upload.data = data
        return web.Response(text=f"OK - {len(data)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        return web.Response(text="ok")

    # ------------------------------------------------------------------ Socket Mode

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._socket_ready.set()
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    ack = json.loads(msg.data)
                    envelope = str(ack.get("envelope_id", ""))
                    self.acks[envelope] = ack.get("payload")
                    self._ack_events.setdefault(envelope, asyncio.Event()).set()
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self._socket_ready.clear()
        return ws

    async def send(self, request: SlackRequest, *, within: float = 10.0) -> dict[str, Any] | None:
        """Deliver ``request`` as a Socket Mode envelope and return the app's ack payload."""
        await asyncio.wait_for(self._socket_ready.wait(), within)
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": request.envelope_type,
            "payload": request.payload,
            "accepts_response_payload": request.envelope_type != "events_api",
        }
        if request.envelope_type == "events_api":
            envelope["retry_attempt"] = request.retry_num or 0
            envelope["retry_reason"] = "timeout" if request.retry_num else ""
        done = self._ack_events.setdefault(envelope_id, asyncio.Event())
        await self._sockets[-1].send_json(envelope)
        await asyncio.wait_for(done.wait(), within)
        return self.acks[envelope_id]

    # ------------------------------------------------------------------ requests as Slack sends them

    def sign(self, body: str, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(self.signing_secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256)
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest.hexdigest()}"}

    def _trigger(self) -> str:
        return f"{next(self._ids)}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:32]}"

    def build_command(
        self, text: str, *, user: str, channel: str, command: str = "/video", timestamp: int | None = None
    ) -> SlackRequest:
        fields = {
            "token": "deprecated-verification-token",
            "team_id": self.team,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "video-requests",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": f"{self.url}/commands/{uuid.uuid4().hex}",
            "trigger_id": self._trigger(),
        }
        body = urlencode(fields)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **self.sign(body, timestamp)}
        return SlackRequest(body, headers, "slash_commands", fields)

    def _interactive(self, payload: dict[str, Any], timestamp: int | None = None) -> SlackRequest:
        body = urlencode({"payload": json.dumps(payload)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", **self.sign(body, timestamp)}
        return SlackRequest(body, headers, "interactive", payload)

    def _user(self, user: str) -> dict[str, Any]:
        return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": self.team}

    def build_click(self, message: Posted, action_id: str, *, user: str) -> SlackRequest:
        """A ``block_actions`` payload for a click on ``action_id`` in ``message``."""
        button = message.button(action_id)
        payload = self.build_click_payload(message, user)
        payload["actions"] = [
            {
                "action_id": button["action_id"],
                "block_id": "clipdesk_actions",
                "text": button["text"],
                "value": button["value"],
                "style": button.get("style"),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ]
        return self._interactive(payload)

    def build_click_payload(self, message: Posted, user: str) -> dict[str, Any]:
        """A ``block_actions`` payload from ``user`` on ``message`` without its ``actions``."""
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": message.ephemeral_to is not None,
        }
        wire_message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "ts": message.ts,
            "text": message.text,
            "blocks": message.blocks,
        }
        if message.thread_ts:
            container["thread_ts"] = message.thread_ts
            wire_message["thread_ts"] = message.thread_ts
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "container": container,
            "trigger_id": self._trigger(),
            "team": {"id": self.team, "domain": "fake"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": message.channel, "name": "video-requests"},
            "message": wire_message,
            "state": {"values": {}},
            "response_url": f"{self.url}/commands/{uuid.uuid4().hex}",
        }
        return payload

    def build_choice(self, message: Posted, action_id: str, option: str, *, user: str) -> SlackRequest:
        """A ``block_actions`` payload for choosing the option whose label starts with ``option``
        in the ``static_select`` ``action_id`` of ``message``."""
        [menu] = [m for m in message.menus() if m["action_id"] == action_id]
        [chosen] = [o for o in menu["options"] if o["text"]["text"].startswith(option)]
        request = self.build_click_payload(message, user)
        request["actions"] = [
            {
                "type": "static_select",
                "action_id": action_id,
                "block_id": "clipdesk_pickers",
                "selected_option": chosen,
                "placeholder": menu["placeholder"],
                "action_ts": f"{time.time():.6f}",
            }
        ]
        return self._interactive(request)

    def build_submission(
        self, view: dict[str, Any], values: dict[str, str | None], *, user: str
    ) -> SlackRequest:
        """A ``view_submission`` of ``view`` (as opened with ``views.open``) with the inputs' values."""
        state: dict[str, dict[str, Any]] = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            element = block["element"]
            name = element["action_id"]
            value = values.get(name, element.get("initial_value"))
            state[block["block_id"]] = {name: {"type": element["type"], "value": value}}
        submitted = {**view, "state": {"values": state}, "hash": uuid.uuid4().hex[:16], "bot_id": BOT_ID}
        payload = {
            "type": "view_submission",
            "team": {"id": self.team, "domain": "fake"},
            "user": self._user(user),
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "trigger_id": self._trigger(),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._interactive(payload)

    def build_event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> SlackRequest:
        """An Events API ``event_callback``; ``retry_num`` marks it as Slack's retry of the same delivery."""
        payload = {
            "token": "deprecated-verification-token",
            "team_id": self.team,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team,
                    "user_id": BOT_USER,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        body = json.dumps(payload)
        headers = {"Content-Type": "application/json", **self.sign(body)}
        if retry_num:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return SlackRequest(body, headers, "events_api", payload, retry_num)

    def build_url_verification(self, challenge: str) -> SlackRequest:
        """The check Slack makes when an operator enters the Events API request URL."""
        payload = {
            "token": "deprecated-verification-token",
            "challenge": challenge,
            "type": "url_verification",
        }
        body = json.dumps(payload)
        return SlackRequest(
            body, {"Content-Type": "application/json", **self.sign(body)}, "events_api", payload
        )

    def build_mention(
        self, text: str, *, user: str, channel: str, thread_ts: str | None = None, ts: str | None = None
    ) -> dict[str, Any]:
        """An ``app_mention`` event (wrap it with :meth:`build_event`)."""
        return self._message_event("app_mention", f"<@{BOT_USER}> {text}", user, channel, thread_ts, ts)

    def build_message(
        self,
        text: str,
        *,
        user: str,
        channel: str,
        channel_type: str = "channel",
        thread_ts: str | None = None,
        ts: str | None = None,
    ) -> dict[str, Any]:
        """A ``message`` event (``channel_type`` ``im`` for a DM)."""
        event = self._message_event("message", text, user, channel, thread_ts, ts)
        event["channel_type"] = channel_type
        return event

    def _message_event(
        self, kind: str, text: str, user: str, channel: str, thread_ts: str | None, ts: str | None
    ) -> dict[str, Any]:
        ts = ts or f"{time.time():.6f}"
        event: dict[str, Any] = {
            "type": kind,
            "user": user,
            "text": text,
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
            "team": self.team,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return event


async def post_http(url: str, request: SlackRequest) -> tuple[int, str]:
    """POST a built request to an app's ``/slack/events``; returns (status, body)."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=request.body.encode(), headers=request.headers) as response,
    ):
        return response.status, await response.text()


# ---------------------------------------------------------------------- validation


class _ApiError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _need(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise _ApiError("invalid_arguments")
    return value


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _content(params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The text and blocks of a message, checked the way Slack rejects ``invalid_blocks``."""
    blocks = _json(params.get("blocks")) or []
    text = str(params.get("text") or "")
    if not text and not blocks:
        raise _ApiError("no_text")
    if not isinstance(blocks, list) or len(blocks) > 50:
        raise _ApiError("invalid_blocks")
    action_ids: set[str] = set()
    for block in blocks:
        if block.get("type") not in _BLOCK_TYPES:
            raise _ApiError("invalid_blocks")
        if len(str((block.get("text") or {}).get("text", ""))) > 3000 or len(block.get("fields", [])) > 10:
            raise _ApiError("invalid_blocks")
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] in action_ids or not _element_ok(element):
                raise _ApiError("invalid_blocks")
            action_ids.add(element["action_id"])
    return text, blocks


def _element_ok(element: dict[str, Any]) -> bool:
    """A button (label ≤ 75) or a static_select (placeholder ≤ 150; 1–100 options, text ≤ 75, value ≤ 150)."""
    if element.get("type") == "static_select":
        options = element.get("options") or []
        return (
            len(element.get("placeholder", {}).get("text", "")) <= 150
            and 1 <= len(options) <= 100
            and all(len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150 for o in options)
        )
    return element.get("type") == "button" and len(element["text"]["text"]) <= 75


def _check_modal(view: dict[str, Any]) -> None:
    for key in ("title", "submit", "close"):
        if key in view and len(view[key]["text"]) > 24:
            raise _ApiError("invalid_arguments")
    if len(view.get("private_metadata", "")) > 3000 or not view.get("blocks"):
        raise _ApiError("invalid_arguments")
