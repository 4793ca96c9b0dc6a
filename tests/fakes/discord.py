"""A local fake of Discord's REST API and gateway that the unmodified ``discord.Client`` logs into.

Point discord.py at it with the two base URLs it keeps (``fake.api_url`` for
``discord.http.Route.BASE`` and ``fake.gateway_url`` for
``DiscordWebSocket.DEFAULT_GATEWAY``); nothing else about the library changes.
Payloads are shaped after ``discord/types/*.py`` of discord.py 2.7.

What it speaks:

- REST: ``GET /gateway``, ``GET /gateway/bot``, ``GET /users/@me``,
  ``GET /oauth2/applications/@me``; ``PUT``/``GET`` application commands (global and
  per guild, bulk overwrite); ``GET /channels/{id}``; channel messages: create (JSON or
  multipart with ``payload_json`` and ``files[n]``, ``enforce_nonce`` honoured, the
  server's attachment limit enforced with 413/40005), edit (JSON or multipart,
  ``attachments`` kept or replaced), fetch; threads from a message
  (``POST /channels/{id}/messages/{id}/threads``: the thread's id is the message's).
- Interactions: ``POST /interactions/{id}/{token}/callback`` (message, deferrals,
  update, modal — one answer per interaction, within ``interaction_deadline`` seconds,
  else 10062 "Unknown interaction" as Discord does), webhook follow-ups and edits of
  the original response (``/webhooks/{app}/{token}…``, tokens valid 15 minutes).
- Gateway (``/gateway``, plain JSON text frames): HELLO → IDENTIFY → READY →
  GUILD_CREATE per guild of the shard, heartbeats ACKed, RESUME answered; privileged
  intents refused with close code 4014 unless enabled. THREAD_CREATE and
  MESSAGE_CREATE are dispatched when the client's intents ask for them.
- Injection: :meth:`FakeDiscord.slash`, :meth:`click`, :meth:`submit_modal` and
  :meth:`user_message` send INTERACTION_CREATE / MESSAGE_CREATE the way Discord does.
- Rate limits: :meth:`rate_limit` answers the next N matching requests with 429,
  ``X-RateLimit-*`` headers, ``Via`` and a ``retry_after`` JSON body.

The guilds, roles, members, channels and messages, with their payloads, live in
``tests.fakes.discord_payloads``.

Every response carries exactly ``Content-Type: application/json`` (discord.py rejects
``; charset=utf-8``). Every request is recorded in :attr:`FakeDiscord.calls`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import BodyPartReader, web

from tests.fakes.discord_payloads import (
    Channel,
    Guild,
    Role,
    StoredMessage,
    User,
    fill_modal,
    iso,
    message_payload,
)

__all__ = [
    "CHANNEL_MESSAGE",
    "DEFERRED_CHANNEL_MESSAGE",
    "DEFERRED_UPDATE_MESSAGE",
    "EPHEMERAL",
    "MODAL",
    "PRIVILEGED_INTENTS",
    "UPDATE_MESSAGE",
    "Call",
    "Channel",
    "FakeDiscord",
    "FakeInteraction",
    "Guild",
    "Role",
    "StoredMessage",
    "UploadedFile",
    "User",
]

DISCORD_EPOCH_MS = 1420070400000
EPHEMERAL = 1 << 6
LOADING = 1 << 7
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
GUILDS_INTENT = 1 << 0
GUILD_MESSAGES_INTENT = 1 << 9
TOKEN_SECONDS = 15 * 60
JSON = "application/json"
T = TypeVar("T")

# Interaction callback types (discord/types/interactions.py InteractionResponseType).
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
MODAL = 9


@dataclass
class Call:
    """One request the fake received, and what it answered."""

    method: str
    path: str
    route: str
    query: dict[str, str]
    body: Any
    files: list[UploadedFile]
    headers: dict[str, str]
    status: int = 0
    at: float = 0.0


@dataclass
class UploadedFile:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class FakeInteraction:
    id: int
    token: str
    type: int
    payload: dict[str, Any]
    user: User
    sent_at: float = 0.0  # loop time the INTERACTION_CREATE frame went out
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    callback_at: float | None = None
    original: StoredMessage | None = None
    followups: list[StoredMessage] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (code, message) of refused callbacks

    @property
    def callback(self) -> dict[str, Any]:
        return self.callbacks[0]

    @property
    def modal(self) -> dict[str, Any] | None:
        for callback in self.callbacks:
            if callback["type"] == MODAL:
                return dict(callback["data"])
        return None


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    shard: tuple[int, int] = (0, 1)
    intents: int = 0
    sequence: int = 0
    session_id: str = ""
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class _RateLimit:
    method: str
    pattern: re.Pattern[str]
    times: int
    retry_after: float


class FakeDiscord:
    """One application with one bot, guilds with roles, channels and members, on 127.0.0.1."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        attachment_size_limit: int = 10 * 1024 * 1024,
        shards: int = 1,
        max_concurrency: int = 1,
        interaction_deadline: float = 3.0,
        allow_privileged_intents: bool = False,
    ) -> None:
        self.token = token
        self.shards = shards
        self.max_concurrency = max_concurrency
        self.interaction_deadline = interaction_deadline
        self.allow_privileged_intents = allow_privileged_intents
        self.default_attachment_limit = attachment_size_limit
        self._ids = itertools.count(1)
        self._base_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        self.app_id = self.snowflake()
        self.bot = User(self.app_id, "clipdesk", bot=True)
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, StoredMessage] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.calls: list[Call] = []
        self.identifies: list[dict[str, Any]] = []
        self.unhandled: list[str] = []
        self._nonces: dict[tuple[int, str], int] = {}
        self._limits: list[_RateLimit] = []
        self._connections: list[_Connection] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.guild = self.add_guild("clipdesk test server")

    # ------------------------------------------------------------------ world

    def snowflake(self) -> int:
        return ((self._base_ms + next(self._ids)) << 22) | secrets.randbelow(1 << 12)

    def add_guild(self, name: str, *, shard: int | None = None) -> Guild:
        guild_id = self.snowflake()
        while shard is not None and (guild_id >> 22) % self.shards != shard:
            guild_id = self.snowflake()
        roles = {"@everyone": Role(guild_id, "@everyone", position=0, permissions=0x400 | 0x800)}
        guild = Guild(guild_id, name, roles, {}, {}, self.default_attachment_limit)
        self.guilds[guild_id] = guild
        guild.members[self.bot.id] = self.bot
        self.add_channel(guild, "video-requests")
        return guild

    def add_channel(self, guild: Guild, name: str, *, type: int = 0) -> Channel:
        channel = Channel(self.snowflake(), guild.id, name, type=type)
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_role(self, name: str, guild: Guild | None = None) -> Role:
        guild = guild or self.guild
        role = Role(self.snowflake(), name, position=len(guild.roles))
        guild.roles[name] = role
        return role

    def add_member(self, username: str, *roles: Role, guild: Guild | None = None) -> User:
        guild = guild or self.guild
        user = User(self.snowflake(), username, roles=[r.id for r in roles])
        guild.members[user.id] = user
        return user

    def text_channel(self, guild: Guild | None = None) -> Channel:
        guild = guild or self.guild
        return next(c for c in guild.channels.values() if c.type == 0)

    def shard_of(self, guild_id: int) -> int:
        return (guild_id >> 22) % self.shards

    # ------------------------------------------------------------------ server

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=512 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v{version:\\d+}/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        # Bounded: a shard that is half-way through reconnecting must not hold the test up.
        for conn in list(self._connections):
            with contextlib.suppress(TimeoutError, ConnectionError):
                await asyncio.wait_for(conn.ws.close(code=1001), 5)
        if self._runner is not None:
            await asyncio.wait_for(self._runner.cleanup(), 30)

    # ------------------------------------------------------------------ observing

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], T], within: float = 15.0, what: str = "") -> T:
        """Wait until ``predicate()`` is truthy (re-checked after every request); return its value."""
        result: list[T] = []

        def check() -> bool:
            value = predicate()
            if value:
                result.append(value)
                return True
            return False

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(check), within)
            except TimeoutError:
                raise AssertionError(f"timed out waiting for {what or predicate}") from None
        return result[0]

    def calls_to(self, method: str, route: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.route == route]

    def channel_messages(self, channel_id: int) -> list[StoredMessage]:
        return [m for m in self.messages.values() if m.channel_id == channel_id and m.via == "bot"]

    def threads(self, parent: int | None = None) -> list[Channel]:
        return [
            c for c in self.channels.values() if c.type == 11 and (parent is None or c.parent_id == parent)
        ]

    # ------------------------------------------------------------------ failures

    def rate_limit(self, method: str, route: str, *, times: int = 1, retry_after: float = 0.05) -> None:
        """Answer the next ``times`` requests to ``route`` (e.g. ``/channels/{id}/messages``) with 429."""
        pattern = re.compile("^" + re.escape(route).replace(re.escape("{id}"), r"\d+") + "$")
        self._limits.append(_RateLimit(method.upper(), pattern, times, retry_after))

    # ------------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.append(conn)
        try:
            await self._send(conn, {"op": 10, "d": {"heartbeat_interval": 41250}})
            async for frame in ws:
                if frame.type.name != "TEXT":
                    continue
                await self._on_frame(conn, json.loads(frame.data))
        finally:
            self._connections.remove(conn)
        return ws

    async def _on_frame(self, conn: _Connection, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == 1:
            await self._send(conn, {"op": 11})
        elif op == 2:
            await self._identify(conn, frame["d"])
        elif op == 6:
            conn.session_id = frame["d"]["session_id"]
            conn.identified.set()
            await self._dispatch_to(conn, "RESUMED", {})

    async def _identify(self, conn: _Connection, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED_INTENTS and not self.allow_privileged_intents:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = tuple(data.get("shard") or (0, 1))
        conn.shard, conn.intents = (int(shard[0]), int(shard[1])), intents
        conn.session_id = secrets.token_hex(16)
        guilds = [g for g in self.guilds.values() if (g.id >> 22) % conn.shard[1] == conn.shard[0]]
        ready = {
            "v": 10,
            "user": self.bot.payload(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": conn.session_id,
            "resume_gateway_url": self.gateway_url,
            "shard": list(conn.shard),
            "application": {"id": str(self.app_id), "flags": 0},
        }
        await self._dispatch_to(conn, "READY", ready)
        if intents & GUILDS_INTENT:
            for guild in guilds:
                await self._dispatch_to(conn, "GUILD_CREATE", guild.payload(self.bot))
        conn.identified.set()
        await self._notify()

    async def _send(self, conn: _Connection, frame: dict[str, Any]) -> None:
        async with conn.lock:
            await conn.ws.send_str(json.dumps(frame))

    async def _dispatch_to(self, conn: _Connection, event: str, data: dict[str, Any]) -> None:
        async with conn.lock:
            conn.sequence += 1
            await conn.ws.send_str(json.dumps({"op": 0, "t": event, "s": conn.sequence, "d": data}))

    def _connection_for(self, guild_id: int) -> _Connection | None:
        for conn in reversed(self._connections):
            if (
                conn.identified.is_set()
                and not conn.ws.closed
                and conn.shard[0] == (guild_id >> 22) % conn.shard[1]
            ):
                return conn
        return None

    async def dispatch(self, event: str, data: dict[str, Any], guild_id: int, *, intent: int = 0) -> bool:
        """Send a DISPATCH to the connection of ``guild_id``'s shard; ``False`` if nobody gets it."""
        conn = self._connection_for(guild_id)
        if conn is None or (intent and not conn.intents & intent):
            return False
        await self._dispatch_to(conn, event, data)
        return True

    async def wait_connected(self, shards: int = 1, within: float = 15.0) -> None:
        await self.wait_for(
            lambda: len([c for c in self._connections if c.identified.is_set()]) >= shards,
            within,
            "IDENTIFY",
        )

    # ------------------------------------------------------------------ interactions

    def _interaction(
        self,
        type: int,
        user: User,
        channel: Channel,
        data: dict[str, Any],
        message: StoredMessage | None = None,
    ) -> FakeInteraction:
        guild = self.guilds[channel.guild_id]
        interaction_id = self.snowflake()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        channel_payload = channel.payload() | {"permissions": str((1 << 41) - 1)}
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.app_id),
            "type": type,
            "token": token,
            "version": 1,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": str(channel.id),
            "channel": channel_payload,
            "member": user.member(permissions=(1 << 41) - 1),
            "app_permissions": str((1 << 41) - 1),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": guild.attachment_size_limit,
            "data": data,
        }
        if message is not None:
            payload["message"] = message.payload
        interaction = FakeInteraction(interaction_id, token, type, payload, user)
        self.interactions[interaction_id] = interaction
        return interaction

    async def send_interaction(self, interaction: FakeInteraction) -> FakeInteraction:
        guild_id = int(interaction.payload["guild_id"])
        conn = self._connection_for(guild_id)
        if conn is None:
            raise AssertionError(f"no gateway connection for guild {guild_id}")
        interaction.sent_at = asyncio.get_running_loop().time()
        await self._dispatch_to(conn, "INTERACTION_CREATE", interaction.payload)
        return interaction

    def command(self, name: str, guild_id: int | None = None) -> dict[str, Any]:
        for scope in (guild_id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name:
                    return command
        raise KeyError(f"command /{name} was never synced: {self.commands}")

    def slash_interaction(
        self, name: str, user: User, options: dict[str, Any] | None = None, *, channel: Channel | None = None
    ) -> FakeInteraction:
        channel = channel or self.text_channel()
        command = self.command(name, channel.guild_id)
        types = {o["name"]: o["type"] for o in command.get("options", [])}
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": 1,
            "options": [{"name": k, "type": types[k], "value": v} for k, v in (options or {}).items()],
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return self._interaction(2, user, channel, data)

    async def slash(
        self, name: str, user: User, options: dict[str, Any] | None = None, *, channel: Channel | None = None
    ) -> FakeInteraction:
        """A member runs ``/name`` with ``options`` (the INTERACTION_CREATE goes out now)."""
        return await self.send_interaction(self.slash_interaction(name, user, options, channel=channel))

    def click_interaction(self, message: StoredMessage, label: str, user: User) -> FakeInteraction:
        """A press of the button labelled ``label`` on ``message``, not sent yet."""
        button = message.button(label)
        if button.get("disabled"):
            raise AssertionError(f"button {label!r} is disabled; Discord would not send the click")
        channel = self.channels[message.channel_id]
        data = {"custom_id": button["custom_id"], "component_type": 2}
        return self._interaction(3, user, channel, data, message)

    async def choose(
        self, message: StoredMessage, placeholder: str, option: str, user: User
    ) -> FakeInteraction:
        """A member picks the option whose label starts with ``option`` in the select menu
        ``placeholder`` on ``message`` (a component of type 3; sent now)."""
        menus = [c for c in message.buttons() if c.get("type") == 3 and c.get("placeholder") == placeholder]
        if not menus:
            raise AssertionError(f"no select menu {placeholder!r} on message {message.id}")
        values = [o["value"] for o in menus[0]["options"] if str(o["label"]).startswith(option)]
        if len(values) != 1:
            raise AssertionError(f"{len(values)} options start with {option!r} in {placeholder!r}")
        channel = self.channels[message.channel_id]
        data = {"custom_id": menus[0]["custom_id"], "component_type": 3, "values": values}
        return await self.send_interaction(self._interaction(3, user, channel, data, message))

    async def click(self, message: StoredMessage, label: str, user: User) -> FakeInteraction:
        """A member presses the button labelled ``label`` on ``message`` (sent now)."""
        return await self.send_interaction(self.click_interaction(message, label, user))

    async def submit_modal(
        self, opened_by: FakeInteraction, values: dict[str, str], user: User
    ) -> FakeInteraction:
        """The modal that answered ``opened_by`` comes back filled in with ``values`` (by custom id)."""
        modal = opened_by.modal
        if modal is None:
            raise AssertionError(f"interaction {opened_by.id} was not answered with a modal")
        channel = self.channels[int(opened_by.payload["channel_id"])]
        components = [fill_modal(component, values) for component in modal["components"]]
        data = {"custom_id": modal["custom_id"], "components": components}
        message = None
        if "message" in opened_by.payload:
            message = self.messages.get(int(opened_by.payload["message"]["id"]))
        return await self.send_interaction(self._interaction(5, user, channel, data, message))

    async def user_message(
        self, channel: Channel, user: User, content: str, *, mention_bot: bool = True
    ) -> int:
        """A member writes in ``channel``; the text is only delivered when it mentions the bot."""
        message_id = self.snowflake()
        mentions = [self.bot.payload()] if mention_bot else []
        text = f"{self.bot.mention} {content}" if mention_bot else content
        payload = message_payload(
            message_id, channel, user.payload(), text if mention_bot else "", [], [], [], None
        ) | {"mentions": mentions, "member": user.member()}
        self.messages[message_id] = StoredMessage(payload, via="user")
        await self.dispatch("MESSAGE_CREATE", payload, channel.guild_id, intent=GUILD_MESSAGES_INTENT)
        await self._notify()
        return message_id

    async def wait_callback(self, interaction: FakeInteraction, within: float = 10.0) -> dict[str, Any]:
        await self.wait_for(
            lambda: interaction.callbacks or interaction.rejected,
            within,
            f"a callback to interaction {interaction.id}",
        )
        if not interaction.callbacks:
            raise AssertionError(f"interaction {interaction.id} callback refused: {interaction.rejected}")
        return interaction.callback

    # ------------------------------------------------------------------ REST

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body, files = await _read_body(request)
        call = Call(
            request.method,
            path,
            _route(path),
            dict(request.query),
            body,
            files,
            dict(request.headers),
            at=asyncio.get_running_loop().time(),
        )
        self.calls.append(call)
        try:
            response = self._limited(call) or await self._handle(call)
        except _Error as exc:
            response = _json({"code": exc.code, "message": exc.message}, exc.status)
        call.status = response.status
        await self._notify()
        return response

    def _limited(self, call: Call) -> web.Response | None:
        for limit in self._limits:
            if limit.times > 0 and limit.method == call.method and limit.pattern.match(call.path):
                limit.times -= 1
                reset = time.time() + limit.retry_after
                headers = {
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{reset:.3f}",
                    "X-RateLimit-Reset-After": f"{limit.retry_after:.3f}",
                    "X-RateLimit-Bucket": "fake" + str(abs(hash(limit.pattern.pattern)) % 10**8),
                    "X-RateLimit-Scope": "user",
                    "Retry-After": str(max(1, round(limit.retry_after))),
                    "Via": "1.1 google",
                }
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": limit.retry_after,
                    "global": False,
                }
                return _json(body, 429, headers)
        return None

    async def _handle(self, call: Call) -> web.Response:
        method, path, route = call.method, call.path, call.route
        parts = path.strip("/").split("/")
        if route.startswith("/interactions/"):
            return await self._interaction_callback(call, int(parts[1]), parts[2])
        if route.startswith("/webhooks/"):
            return await self._webhook(call, parts)
        if call.headers.get("Authorization") != f"Bot {self.token}":
            raise _Error(401, 0, "401: Unauthorized")
        if (method, route) == ("GET", "/gateway"):
            return _json({"url": self.gateway_url})
        if (method, route) == ("GET", "/gateway/bot"):
            return _json(
                {
                    "url": self.gateway_url,
                    "shards": self.shards,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 86400000,
                        "max_concurrency": self.max_concurrency,
                    },
                }
            )
        if (method, route) == ("GET", "/users/@me"):
            return _json(self.bot.payload())
        if (method, route) == ("GET", "/oauth2/applications/@me"):
            return _json(self._app_info())
        if route in ("/applications/{id}/commands", "/applications/{id}/guilds/{id}/commands"):
            guild_id = int(parts[3]) if len(parts) > 4 else None
            if method == "PUT":
                return _json(self._overwrite_commands(guild_id, call.body))
            if method == "GET":
                return _json(self.commands.get(guild_id, []))
        if (method, route) == ("GET", "/channels/{id}"):
            return _json(self._channel(int(parts[1])).payload())
        if (method, route) == ("POST", "/channels/{id}/messages"):
            return await self._create_message(call, self._channel(int(parts[1])))
        if route == "/channels/{id}/messages/{id}":
            message = self._message(int(parts[1]), int(parts[3]))
            if method == "GET":
                return _json(message.payload)
            if method == "PATCH":
                return await self._edit_message(call, message)
        if (method, route) == ("POST", "/channels/{id}/messages/{id}/threads"):
            return await self._thread_from_message(call, self._message(int(parts[1]), int(parts[3])))
        self.unhandled.append(f"{method} {path}")
        raise _Error(404, 0, "404: Not Found")

    def _app_info(self) -> dict[str, Any]:
        return {
            "id": str(self.app_id),
            "name": "clipdesk",
            "icon": None,
            "description": "",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": User(self.snowflake(), "owner").payload(),
            "summary": "",
            "verify_key": "0" * 64,
            "team": None,
            "flags": 0,
            "bot": self.bot.payload(),
            "interactions_endpoint_url": None,
        }

    def _overwrite_commands(self, guild_id: int | None, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, list) or len(body) > 100:
            raise _Error(400, 50035, "Invalid Form Body")
        stored = []
        for command in body:
            name = command.get("name", "")
            if not re.fullmatch(r"[-_\w]{1,32}", name) or name != name.lower():
                raise _Error(400, 50035, f"Invalid command name {name!r}")
            if not 1 <= len(command.get("description", "")) <= 100:
                raise _Error(400, 50035, f"Invalid description for {name}")
            for option in command.get("options", []):
                if len(option.get("choices", [])) > 25:
                    raise _Error(400, 50035, f"Too many choices for {name}.{option['name']}")
            previous = next((c for c in self.commands.get(guild_id, []) if c["name"] == name), None)
            stored.append(
                command
                | {
                    "id": previous["id"] if previous else str(self.snowflake()),
                    "application_id": str(self.app_id),
                    "version": str(self.snowflake()),
                    "type": command.get("type", 1),
                    "default_member_permissions": command.get("default_member_permissions"),
                    "nsfw": command.get("nsfw", False),
                }
                | ({"guild_id": str(guild_id)} if guild_id else {})
            )
        self.commands[guild_id] = stored
        return stored

    def _channel(self, channel_id: int) -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise _Error(404, 10003, "Unknown Channel")
        return channel

    def _message(self, channel_id: int, message_id: int) -> StoredMessage:
        message = self.messages.get(message_id)
        if message is None or message.channel_id != channel_id:
            raise _Error(404, 10008, "Unknown Message")
        return message

    def _attachments(
        self, channel: Channel, files: list[UploadedFile], described: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
        limit = self.guilds[channel.guild_id].attachment_size_limit
        if sum(len(f.data) for f in files) > limit:
            raise _Error(413, 40005, "Request entity too large")
        attachments, data = [], {}
        for index, upload in enumerate(files):
            attachment_id = str(self.snowflake())
            meta = next((d for d in described if str(d.get("id")) == str(index)), {})
            attachments.append(
                {
                    "id": attachment_id,
                    "filename": meta.get("filename") or upload.filename,
                    "size": len(upload.data),
                    "url": f"https://cdn.discordapp.com/attachments/{channel.id}/{attachment_id}/{upload.filename}",
                    "proxy_url": f"https://media.discordapp.net/attachments/{channel.id}/{attachment_id}/{upload.filename}",
                    "content_type": "video/mp4" if upload.filename.endswith(".mp4") else upload.content_type,
                }
            )
            data[attachment_id] = upload.data
        return attachments, data

    async def _create_message(self, call: Call, channel: Channel) -> web.Response:
        body = dict(call.body or {})
        if channel.type not in (0, 5, 11):
            raise _Error(400, 50008, "Cannot send messages in a non-text channel")
        if not (body.get("content") or body.get("embeds") or call.files or body.get("components")):
            raise _Error(400, 50006, "Cannot send an empty message")
        if len(body.get("content") or "") > 2000:
            raise _Error(400, 50035, "Invalid Form Body: content must be 2000 or fewer in length.")
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce") and (channel.id, str(nonce)) in self._nonces:
            return _json(self.messages[self._nonces[(channel.id, str(nonce))]].payload)
        stored = self._bot_message(channel, body, call.files, nonce=nonce)
        payload, message_id = stored.payload, stored.id
        if nonce is not None:
            self._nonces[(channel.id, str(nonce))] = message_id
        await self.dispatch("MESSAGE_CREATE", payload, channel.guild_id, intent=GUILD_MESSAGES_INTENT)
        return _json(payload)

    def _bot_message(
        self,
        channel: Channel,
        body: dict[str, Any],
        files: list[UploadedFile],
        *,
        nonce: Any = None,
        via: str = "bot",
        extra: dict[str, Any] | None = None,
    ) -> StoredMessage:
        """A message the bot sent (by token or through an interaction), stored as Discord would."""
        attachments, data = self._attachments(channel, files, body.get("attachments") or [])
        payload = message_payload(
            self.snowflake(),
            channel,
            self.bot.payload(),
            body.get("content") or "",
            body.get("embeds") or [],
            body.get("components") or [],
            attachments,
            nonce,
        ) | (extra or {})
        stored = StoredMessage(payload, data, via=via)
        self.messages[stored.id] = stored
        return stored

    async def _edit_message(self, call: Call, message: StoredMessage) -> web.Response:
        body = dict(call.body or {})
        channel = self._channel(message.channel_id)
        self._apply_edit(message, body, channel, call.files)
        await self.dispatch("MESSAGE_UPDATE", message.payload, channel.guild_id, intent=GUILD_MESSAGES_INTENT)
        return _json(message.payload)

    def _apply_edit(
        self, message: StoredMessage, body: dict[str, Any], channel: Channel, files: list[UploadedFile]
    ) -> None:
        for key in ("content", "embeds", "components", "flags"):
            if key in body:
                message.payload[key] = (
                    body[key] if body[key] is not None else ([] if key != "content" else "")
                )
        if "attachments" in body or files:
            keep_ids = {str(a.get("id")) for a in body.get("attachments") or []}
            kept = (
                [a for a in message.attachments if a["id"] in keep_ids]
                if "attachments" in body
                else message.attachments
            )
            added, data = self._attachments(channel, files, body.get("attachments") or [])
            message.payload["attachments"] = kept + added
            message.files.update(data)
        message.payload["edited_timestamp"] = iso()
        message.edits.append(body)

    async def _thread_from_message(self, call: Call, message: StoredMessage) -> web.Response:
        parent = self._channel(message.channel_id)
        if parent.type not in (0, 5):
            raise _Error(400, 50024, "Cannot execute action on this channel type")
        if message.id in self.channels:
            raise _Error(400, 160004, "A thread has already been created for this message")
        name = str((call.body or {}).get("name") or "")
        if not 1 <= len(name) <= 100:
            raise _Error(400, 50035, "Invalid Form Body: name must be between 1 and 100 in length.")
        thread = Channel(
            message.id, parent.guild_id, name, type=11, parent_id=parent.id, owner_id=self.bot.id
        )
        self.channels[thread.id] = thread
        self.guilds[parent.guild_id].channels[thread.id] = thread
        message.payload["thread"] = thread.payload()
        payload = thread.payload() | {"newly_created": True}
        await self.dispatch("THREAD_CREATE", payload, parent.guild_id, intent=GUILDS_INTENT)
        return _json(thread.payload())

    # ------------------------------------------------------------------ interaction responses

    def _live(self, interaction_id: int, token: str) -> FakeInteraction:
        interaction = self.interactions.get(interaction_id)
        if interaction is None or interaction.token != token:
            raise _Error(404, 10062, "Unknown interaction")
        return interaction

    async def _interaction_callback(self, call: Call, interaction_id: int, token: str) -> web.Response:
        interaction = self._live(interaction_id, token)
        late = call.at - interaction.sent_at > self.interaction_deadline
        if late:
            interaction.rejected.append((10062, "Unknown interaction"))
            raise _Error(404, 10062, "Unknown interaction")
        if interaction.callbacks:
            interaction.rejected.append((40060, "Interaction has already been acknowledged."))
            raise _Error(400, 40060, "Interaction has already been acknowledged.")
        body = dict(call.body or {})
        kind = int(body.get("type", 0))
        data = dict(body.get("data") or {})
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 5: {4, 5, 6, 7}}.get(interaction.type, set())
        if kind not in allowed:
            interaction.rejected.append((50035, f"callback type {kind} not allowed"))
            raise _Error(400, 50035, f"Invalid interaction response type {kind}")
        if kind == MODAL and not (data.get("custom_id") and data.get("title") and data.get("components")):
            raise _Error(400, 50035, "Invalid Form Body: a modal needs custom_id, title and components")
        interaction.callbacks.append(body)
        interaction.callback_at = call.at
        response: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
            },
            "resource": {"type": kind},
        }
        channel = self._channel(int(interaction.payload["channel_id"]))
        if kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            loading = 1 << 7 if kind == DEFERRED_CHANNEL_MESSAGE else 0
            message = self._bot_message(
                channel,
                data,
                call.files,
                via="interaction",
                extra={"flags": int(data.get("flags") or 0) | loading},
            )
            interaction.original = message
            response["interaction"]["response_message_id"] = str(message.id)
            response["resource"]["message"] = message.payload
        elif kind == UPDATE_MESSAGE:
            target = self.messages[int(interaction.payload["message"]["id"])]
            self._apply_edit(target, data, channel, call.files)
            response["resource"]["message"] = target.payload
        return _json(response)

    async def _webhook(self, call: Call, parts: list[str]) -> web.Response:
        # /webhooks/{app}/{token}[/messages/{id|@original}]
        if len(parts) < 3 or int(parts[1]) != self.app_id:
            raise _Error(404, 10015, "Unknown Webhook")
        interaction = next((i for i in self.interactions.values() if i.token == parts[2]), None)
        if interaction is None or call.at - interaction.sent_at > TOKEN_SECONDS:
            raise _Error(401, 50027, "Invalid Webhook Token")
        if not interaction.callbacks:
            raise _Error(404, 10015, "Unknown Webhook")  # no initial response yet
        channel = self._channel(int(interaction.payload["channel_id"]))
        body = dict(call.body or {})
        if call.method == "POST" and len(parts) == 3:
            message = self._bot_message(
                channel,
                body,
                call.files,
                via="interaction",
                extra={"flags": int(body.get("flags") or 0), "webhook_id": str(self.app_id)},
            )
            original = interaction.original
            if original is not None and original.flags & LOADING and not interaction.followups:
                # The first follow-up after a "thinking…" deferral takes that message's place.
                original.payload.update(
                    content=message.content, embeds=message.embeds, flags=original.flags & ~LOADING
                )
            interaction.followups.append(message)
            return _json(message.payload)
        if len(parts) == 5 and parts[3] == "messages":
            if parts[4] == "@original":
                target = interaction.original
            else:
                target = next((m for m in interaction.followups if m.id == int(parts[4])), None)
            if target is None:
                raise _Error(404, 10008, "Unknown Message")
            if call.method == "GET":
                return _json(target.payload)
            if call.method == "PATCH":
                self._apply_edit(target, body, channel, call.files)
                return _json(target.payload)
        self.unhandled.append(f"{call.method} {call.path}")
        raise _Error(404, 0, "404: Not Found")


class _Error(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py only parses JSON for that exact header value.
    return web.Response(
        body=json.dumps(body).encode(), status=status, headers={"Content-Type": JSON, **(headers or {})}
    )


def _route(path: str) -> str:
    parts = path.strip("/").split("/")
    if parts and parts[0] in ("interactions", "webhooks"):
        return "/" + "/".join([parts[0], "{id}", "{token}", *parts[3:]])
    return "/" + "/".join("{id}" if p.isdigit() else p for p in parts)


async def _read_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("multipart/"):
        body: Any = None
        files: list[UploadedFile] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            data = await part.read()
            if part.name == "payload_json":
                body = json.loads(data)
            elif part.filename:
                content = part.headers.get("Content-Type", "")
                files.append(UploadedFile(part.name or "", part.filename, content, bytes(data)))
        return body, files
    raw = await request.read()
    if not raw:
        return None, []
    return json.loads(raw), []
