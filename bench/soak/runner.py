"""Run the soak: replicas under kill -9, a steady stream of asks and clicks, then count.

Two `clipdesk serve` replicas (Slack HTTP mode, the fake Slack) and four `clipdesk worker`
processes share one fresh PostgreSQL database and the flaky provider's job folder. This
process hosts the fake Slack and sends signed `/video` commands (round robin over the
live serve replicas) and Approve clicks on clips that arrived, while every ~10 s one
random replica is SIGKILLed and started again. Then it drains: no more asks or kills,
and it waits (with a deadline) until every acknowledged ask reached a clip post or a
clear terminal state. Only then does it count, from the fake Slack's record, the
provider's job log and the database:

* lost: an acknowledged ask with no request, no thread, or neither a clip nor an end;
* duplicate provider jobs: a render for which the provider started more than one job;
* duplicate posts: a request with more than one thread parent, or more than one clip post.

Loopback only; every loop is bounded in count and time; it stops by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text

from bench.common import PG_URL, drop_postgres, fresh_postgres, percentile
from bench.soak.provider import NAME as PROVIDER
from bench.soak.provider import jobs_per_render
from storage.database import make_engine
from tests.fakes.loopback import unused_port
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, Posted
from tests.support.cli_run import ROOT, clean_environment

CHANNEL = "C0SOAK"
APPROVER = "ULEAD"
CLIP_HEADLINE = "🎬 Your clip is ready"
PARENT_KEY = "thread:"  # the parent message's metadata key is "thread:<request id>" (bot/presenter.py)
# Ends a request reaches without a clip; each is said in its thread.
TERMINAL = {"failed", "blocked", "cancelled", "rejected", "expired"}


@dataclass(frozen=True)
class SoakConfig:
    seconds: float = 300.0
    asks_per_second: float = 1.0
    kill_every: float = 10.0
    drain_seconds: float = 420.0
    serves: int = 2
    workers: int = 4
    failure_rate: float = 0.1
    seed: int | None = None
    postgres: str = PG_URL
    # Connections each process keeps (as many again at a peak): production's default. The
    # one-minute soak of `make test` sets fewer, since the whole suite shares one server.
    pool_size: int = 10

    @classmethod
    def from_env(cls) -> SoakConfig:
        env = os.environ
        return cls(
            seconds=float(env.get("SOAK_SECONDS", "300")),
            asks_per_second=float(env.get("SOAK_ASKS_PER_SECOND", "1")),
            kill_every=float(env.get("SOAK_KILL_EVERY", "10")),
            drain_seconds=float(env.get("SOAK_DRAIN_SECONDS", "420")),
            failure_rate=float(env.get("SOAK_FAILURE_RATE", "0.1")),
            seed=int(env["SOAK_SEED"]) if env.get("SOAK_SEED") else None,
            pool_size=int(env.get("SOAK_DB_POOL_SIZE", "10")),
            postgres=env.get("CLIPDESK_TEST_POSTGRES_URL", PG_URL),
        )


@dataclass
class Ask:
    """One `/video` command sent; ``acked`` when a replica answered 200 (Slack then never resends)."""

    token: str
    sent_at: float
    acked: bool = False


@dataclass
class Report:
    sent: int
    acknowledged: int
    kills: int
    lost: list[str]
    duplicate_jobs: dict[str, int]
    duplicate_parents: dict[str, int]
    duplicate_clips: dict[str, int]
    duplicate_requests: dict[str, int]
    clips: int
    ended_without_clip: dict[str, int]
    approvals: int
    seconds_to_clip: list[float]
    provider_jobs: int
    drained: bool
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.duplicate_jobs
            or self.duplicate_parents
            or self.duplicate_clips
            or self.duplicate_requests
        )

    def lines(self) -> list[str]:
        p50 = percentile(self.seconds_to_clip, 50)
        p99 = percentile(self.seconds_to_clip, 99)
        return [
            f"requests sent:           {self.sent} ({self.acknowledged} acknowledged)",
            f"replicas SIGKILLed:      {self.kills}",
            f"lost:                    {len(self.lost)} {sorted(self.lost)[:20] or ''}",
            f"duplicate provider jobs: {len(self.duplicate_jobs)} {self.duplicate_jobs or ''}"
            f" (of {self.provider_jobs} jobs)",
            f"duplicate thread parents:{len(self.duplicate_parents)} {self.duplicate_parents or ''}",
            f"duplicate clip posts:    {len(self.duplicate_clips)} {self.duplicate_clips or ''}",
            f"duplicate requests:      {len(self.duplicate_requests)} {self.duplicate_requests or ''}",
            f"clips posted:            {self.clips}; ended without a clip: {self.ended_without_clip or 0}",
            f"approvals clicked:       {self.approvals}",
            f"time to clip:            p50 {p50:.2f} s, p99 {p99:.2f} s",
            f"drained:                 {'yes' if self.drained else 'NO (deadline reached)'}",
            *self.notes,
        ]


_CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="?")


class TimedSlack(FakeSlack):
    """The fake Slack, noting when and by which process each message was posted."""

    def __init__(self) -> None:
        super().__init__()
        self.posted_at: dict[str, float] = {}
        self.posted_by: dict[str, str] = {}

    async def _api(self, request: web.Request) -> web.Response:
        _CALLER.set(request.headers.get("X-Soak-Process", "?"))  # each request runs in its own task
        return await super()._api(request)

    def _m_chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        try:
            return super()._m_chat_postMessage(p)
        finally:
            if self.messages:
                ts = self.messages[-1].ts
                self.posted_at.setdefault(ts, time.monotonic())
                self.posted_by.setdefault(ts, _CALLER.get())


class Replica:
    """One `serve` or `worker` process; SIGKILL and start again as often as the chaos likes."""

    def __init__(self, name: str, kind: str, env: dict[str, str], logs: Path) -> None:
        self.name, self.kind, self.env, self.logs = name, kind, env, logs
        self.proc: asyncio.subprocess.Process | None = None
        self.generation = 0
        self.port = 0
        self.ready = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def start(self) -> None:
        self.generation += 1
        env = dict(self.env, CLIPDESK_WORKER_ID=f"{self.name}-g{self.generation}")
        if self.kind == "serve":
            self.port = unused_port()  # a fresh port each start: never a fixed one
            env["CLIPDESK_HTTP_PORT"] = str(self.port)
        log = (self.logs / f"{self.name}-g{self.generation}.log").open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.soak.proc", self.kind, cwd=ROOT, env=env, stdout=log, stderr=log
        )
        log.close()
        if self.kind == "serve":
            await self._healthy(120.0)
        self.ready = True

    async def _healthy(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.returncode is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode} (see its log)")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as r:
                        if r.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become healthy in {seconds:.0f} s")

    async def kill(self) -> None:
        self.ready = False
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    async def stop(self) -> None:
        """A graceful stop (SIGTERM), then the hard way if it takes too long."""
        self.ready = False
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 60)
        except TimeoutError:
            await self.kill()


class Soak:
    def __init__(self, config: SoakConfig, workdir: Path, db_url: str) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.workdir = workdir
        self.db_url = db_url
        self.slack = TimedSlack()
        self.asks: list[Ask] = []
        self.replicas: list[Replica] = []
        self.kills = 0
        self.kill_log: list[tuple[float, str]] = []  # (when, which process), to explain a duplicate
        self.started = time.monotonic()
        self.clicked: set[str] = set()
        self.approvals = 0
        self._sends: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None

    # ------------------------------------------------------------------ set-up

    def _env(self) -> dict[str, str]:
        env = clean_environment(self.workdir)
        env.update(
            CLIPDESK_DATABASE_URL=self.db_url,
            CLIPDESK_DB_POOL_SIZE=str(self.config.pool_size),
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            CLIPDESK_SLACK_API_URL=self.slack.api_url,
            CLIPDESK_SLACK_APPROVERS=APPROVER,
            CLIPDESK_PROVIDER=PROVIDER,
            SOAK_PROVIDER_DIR=str(self.workdir / "jobs"),
            SOAK_FAILURE_RATE=str(self.config.failure_rate),
            # Short leases: what a killed replica held is taken over within seconds. Deliveries
            # keep production's 30 s: a post is not undoable, and on a loaded 2-core machine a
            # 3 s lease lapses under a live deliverer, which then posts alongside its successor.
            CLIPDESK_LEASE_SECONDS="3",
            CLIPDESK_INTAKE_LEASE_SECONDS="3",
            CLIPDESK_DELIVERY_LEASE_SECONDS="30",
            CLIPDESK_INTAKE_GRACE_SECONDS="1",
            CLIPDESK_TICK_SECONDS="0.5",
            CLIPDESK_WATERMARK="false",
            CLIPDESK_WORKER_CONCURRENCY="4",
            CLIPDESK_SHUTDOWN_GRACE_SECONDS="5",
            CLIPDESK_LOG_FORMAT="console",
        )
        return env

    async def start(self) -> None:
        await self.slack.start()
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        env = self._env()
        self.replicas = [Replica(f"serve{i}", "serve", env, logs) for i in range(self.config.serves)]
        self.replicas += [Replica(f"worker{i}", "worker", env, logs) for i in range(self.config.workers)]
        # The first serve migrates alone; the rest start together.
        await self.replicas[0].start()
        await asyncio.gather(*(r.start() for r in self.replicas[1:]))
        self._http = aiohttp.ClientSession()

    async def close(self) -> None:
        await asyncio.gather(*(r.stop() for r in self.replicas), return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        await self.slack.close()

    # ------------------------------------------------------------------ traffic

    def _live_serve(self) -> Replica | None:
        live = [r for r in self.replicas if r.kind == "serve" and r.ready]
        return self.rng.choice(live) if live else None

    async def _post(self, body: str, headers: dict[str, str]) -> bool:
        serve = self._live_serve()
        if serve is None or self._http is None:
            return False
        try:
            async with self._http.post(
                serve.url, data=body.encode(), headers=headers, timeout=aiohttp.ClientTimeout(total=30)
            ) as response:
                await response.read()
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False  # killed mid-request: Slack would show the user an error, nothing was promised

    async def _send_ask(self, n: int) -> None:
        token = f"soak{n:05d}"
        ask = Ask(token, time.monotonic())
        self.asks.append(ask)
        command = self.slack.build_command(
            f"a 4s clip of a paper kite, {token}", user=f"U{n % 50:04d}", channel=CHANNEL
        )
        ask.acked = await self._post(command.body, command.headers)

    async def send_asks(self, until: float) -> None:
        n = 0
        while time.monotonic() < until:
            task = asyncio.create_task(self._send_ask(n))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)
            n += 1
            await asyncio.sleep(self.rng.expovariate(self.config.asks_per_second))
        if self._sends:
            await asyncio.gather(*self._sends, return_exceptions=True)

    async def click_approvals(self, until: float) -> None:
        while time.monotonic() < until:
            for message in list(self.slack.messages):
                if message.ts in self.clicked or not _has_button(message, "clipdesk_approve"):
                    continue
                click = self.slack.build_click(message, "clipdesk_approve", user=APPROVER)
                if await self._post(click.body, click.headers):
                    self.clicked.add(message.ts)
                    self.approvals += 1
            await asyncio.sleep(1.0)

    async def chaos(self, until: float) -> None:
        """Every ~kill_every seconds: SIGKILL one random replica, then start it again."""
        while True:
            await asyncio.sleep(self.config.kill_every * self.rng.uniform(0.6, 1.4))
            if time.monotonic() >= until:
                return
            candidates = [r for r in self.replicas if r.ready]
            serves_up = [r for r in candidates if r.kind == "serve"]
            if len(serves_up) < 2:  # keep one serve answering Slack
                candidates = [r for r in candidates if r.kind != "serve"]
            victim = self.rng.choice(candidates)
            await victim.kill()
            self.kills += 1
            self.kill_log.append((time.monotonic(), f"{victim.name}-g{victim.generation}"))
            await victim.start()

    # ------------------------------------------------------------------ drain and count

    async def _requests(self) -> dict[str, list[tuple[str, str]]]:
        """Per ask token: its request rows (id, status)."""
        engine = make_engine(self.db_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(text("SELECT id, raw_text, status FROM requests"))).all()
        finally:
            await engine.dispose()
        found: dict[str, list[tuple[str, str]]] = {}
        for request_id, raw_text, status in rows:
            token = str(raw_text).rsplit(", ", 1)[-1]
            found.setdefault(token, []).append((str(request_id), str(status)))
        return found

    async def _failed_renders(self) -> Counter[str]:
        """Why renders failed (QC, retries spent, …), by reason: context for the figures."""
        engine = make_engine(self.db_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                query = text("SELECT failure_reason FROM renders WHERE status = 'failed'")
                return Counter(str(r)[:80] for (r,) in (await conn.execute(query)).all())
        finally:
            await engine.dispose()

    async def _pending_outbox(self) -> int:
        engine = make_engine(self.db_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                query = text("SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND NOT abandoned")
                return int((await conn.execute(query)).scalar_one())
        finally:
            await engine.dispose()

    def _parents(self) -> dict[str, list[Posted]]:
        """Thread parents by the request their metadata names."""
        parents: dict[str, list[Posted]] = {}
        for message in self.slack.parents(CHANNEL):
            key = str(((message.metadata or {}).get("event_payload") or {}).get("key", ""))
            if key.startswith(PARENT_KEY):
                parents.setdefault(key.removeprefix(PARENT_KEY), []).append(message)
        return parents

    def _clips(self, parents: list[Posted]) -> list[Posted]:
        return [
            m
            for parent in parents
            for m in self.slack.thread(CHANNEL, parent.ts)
            # As first posted: Approve later edits the message (chat.update).
            if (m.versions[0][0] if m.versions else m.text).startswith(CLIP_HEADLINE)
        ]

    async def _unsettled(self) -> list[str]:
        """Acknowledged asks that have not yet reached a clip post or a terminal state."""
        requests = await self._requests()
        parents = self._parents()
        waiting = []
        for ask in self.asks:
            if not ask.acked:
                continue
            rows = requests.get(ask.token, [])
            if not rows:
                waiting.append(ask.token)
                continue
            request_id, status = rows[0]
            if self._clips(parents.get(request_id, [])) or status in TERMINAL:
                continue
            waiting.append(ask.token)
        return waiting

    async def drain(self) -> bool:
        deadline = time.monotonic() + self.config.drain_seconds
        while time.monotonic() < deadline:
            if not await self._unsettled() and await self._pending_outbox() == 0:
                return True
            await asyncio.sleep(1.0)
        return False

    async def count(self, drained: bool) -> Report:
        requests = await self._requests()
        parents = self._parents()
        lost: list[str] = []
        duplicate_parents: dict[str, int] = {}
        duplicate_clips: dict[str, int] = {}
        duplicate_requests: dict[str, int] = {}
        ended: Counter[str] = Counter()
        to_clip: list[float] = []
        clips_total = 0
        for ask in self.asks:
            rows = requests.get(ask.token, [])
            if len(rows) > 1:
                duplicate_requests[ask.token] = len(rows)
            for request_id, _status in rows:
                threads = parents.get(request_id, [])
                if len(threads) > 1:
                    duplicate_parents[request_id] = len(threads)
                clips = self._clips(threads)
                clips_total += len(clips)
                if len(clips) > 1:
                    duplicate_clips[request_id] = len(clips)
            if not ask.acked:
                continue
            if not rows:
                lost.append(f"{ask.token} (no request)")
                continue
            request_id, status = rows[0]
            threads = parents.get(request_id, [])
            clips = self._clips(threads)
            if clips:
                to_clip.append(self.slack.posted_at[clips[0].ts] - ask.sent_at)
            elif status in TERMINAL and threads:
                ended[status] += 1
            else:
                lost.append(f"{ask.token} ({request_id}, {status}, {len(threads)} thread)")
        jobs = jobs_per_render(self.workdir / "jobs")
        notes = [f"renders failed:          {dict(await self._failed_renders()) or 0}"]
        for request_id in duplicate_clips:
            notes.append(f"  {request_id}: {self._explain(self._clips(parents.get(request_id, [])))}")
        return Report(
            sent=len(self.asks),
            acknowledged=sum(a.acked for a in self.asks),
            kills=self.kills,
            lost=lost,
            duplicate_jobs={r: len(j) for r, j in jobs.items() if len(j) > 1},
            duplicate_parents=duplicate_parents,
            duplicate_clips=duplicate_clips,
            duplicate_requests=duplicate_requests,
            clips=clips_total,
            ended_without_clip=dict(ended),
            approvals=self.approvals,
            seconds_to_clip=to_clip,
            provider_jobs=sum(len(j) for j in jobs.values()),
            drained=drained,
            notes=notes,
        )

    def _explain(self, posts: list[Posted]) -> str:
        """When each duplicate was posted, and which replicas were killed in between (seconds from start)."""
        times = sorted(self.slack.posted_at[m.ts] for m in posts)
        by = [
            f"{self.slack.posted_by[m.ts]}@{self.slack.posted_at[m.ts] - self.started:.1f}"
            f" key={((m.metadata or {}).get('event_payload') or {}).get('key')}"
            for m in posts
        ]
        kills = [
            f"{name}@{at - self.started:.1f}" for at, name in self.kill_log if times[0] - 5 <= at <= times[-1]
        ]
        return f"posted by {by} (s from start); killed around then: {kills}"

    async def run(self) -> Report:
        await self.start()
        try:
            until = time.monotonic() + self.config.seconds
            await asyncio.gather(self.send_asks(until), self.click_approvals(until), self.chaos(until))
            drained = await self.drain()
            # A graceful stop of everyone, then count what Slack, the provider and the database hold.
            await asyncio.gather(*(r.stop() for r in self.replicas))
            return await self.count(drained)
        finally:
            await self.close()


def _has_button(message: Posted, action_id: str) -> bool:
    return any(b.get("action_id") == action_id for b in message.buttons())


async def run_soak(config: SoakConfig, workdir: Path | None = None) -> Report:
    """One soak on a fresh PostgreSQL database, dropped afterwards."""
    name = f"clipdesk_soak_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    db_url = await asyncio.to_thread(fresh_postgres, config.postgres, name)
    if db_url is None:
        raise RuntimeError(f"PostgreSQL unreachable at {config.postgres}")
    try:
        with contextlib.ExitStack() as stack:
            folder = workdir or Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="clipdesk-soak-"))
            )
            return await Soak(config, folder, db_url).run()
    finally:
        await asyncio.to_thread(drop_postgres, config.postgres, db_url)


def main() -> None:
    config = SoakConfig.from_env()
    print(
        f"soak: {config.seconds:.0f} s, {config.serves} serve + {config.workers} worker replicas "
        "on PostgreSQL, "
        f"~{config.asks_per_second:g} asks/s, one SIGKILL every ~{config.kill_every:g} s",
        flush=True,
    )
    keep = os.environ.get("SOAK_WORKDIR")
    report = asyncio.run(run_soak(config, Path(keep) if keep else None))
    for line in report.lines():
        print(line)
    print("soak: OK" if report.ok else "soak: FAILED")
    sys.exit(0 if report.ok else 1)
