"""(a) The queue, measured on the production worker (`clipdesk worker`, see bench/prod_worker.py).

- claim latency of an idle worker: one render is queued at a time (the worker
  has been idle for a while); from just before the queuing transaction starts
  to the worker's claim returning;
- throughput: renders/s through the full path (claim → submit → poll → download
  → post-process (off) → ready, every step saved) with an instant provider, from
  the first submit to the last ready render in the audit trail;
- worker CPU seconds and SQL statements per render during that run.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from bench.common import PG_URL, cpu_ticks, drop_postgres, fresh_postgres, ms, percentile
from bot.domain import Brief, Render, ReplyTarget, RequestOptions, RequestStatus, Shot, VideoRequest, new_id
from storage.database import make_engine, upgrade
from storage.repository import SqlStore
from storage.tx import renders_t

RENDERS = 300
LATENCY_SAMPLES = 25
CONCURRENCY = 16
ROOT = Path(__file__).resolve().parents[1]
_FOREIGN = (
    "CLIPDESK_",
    "SLACK_",
    "DISCORD_",
    "OPENAI_",
    "GEMINI_",
    "RUNWAYML_",
    "FAL_",
    "REPLICATE_",
    "LUMAAI_",
)


@dataclass
class WorkerStats:
    statements: int
    cpu: float
    claims: list[tuple[float, list[str]]]

    @property
    def claimed(self) -> int:
        return sum(len(ids) for _, ids in self.claims)


def _env(url: str, tmp: Path, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
    env.update(
        CLIPDESK_DATABASE_URL=url,
        CLIPDESK_DATA_DIR=str(tmp / "data"),
        CLIPDESK_WORKER_ID=name,
        CLIPDESK_WORKER_CONCURRENCY=str(CONCURRENCY),
        # The per-provider cap (default 4) guards real providers' rate limits; the instant provider
        # has none, and the queue, not that cap, is what is measured.
        CLIPDESK_PROVIDER_CONCURRENCY=str(CONCURRENCY),
        CLIPDESK_LOG_LEVEL="WARNING",
        CLIPDESK_WATERMARK="false",
        BENCH_STATS=str(tmp / f"{name}.json"),
        PYTHONPATH=str(ROOT),
    )
    if os.environ.get("BENCH_PROFILE_DIR"):
        env["BENCH_PROFILE"] = str(Path(os.environ["BENCH_PROFILE_DIR"]) / f"{name}.prof")
    return env


class Workers:
    """``count`` production worker processes; :meth:`stop` SIGTERMs them and reads their stats."""

    def __init__(self, url: str, tmp: Path, count: int, tag: str) -> None:
        self.tmp = tmp
        self.names = [f"{tag}{i}" for i in range(count)]
        (tmp / "cwd").mkdir(exist_ok=True)  # no stray .env or clipdesk.toml is read
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.prod_worker"],
                cwd=tmp / "cwd",
                env=_env(url, tmp, name),
                stdout=subprocess.DEVNULL,
                stderr=open(tmp / f"{name}.log", "w"),  # noqa: SIM115 - closed with the process
            )
            for name in self.names
        ]

    async def stop(self) -> list[WorkerStats]:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for name, proc in zip(self.names, self.procs, strict=True):
            try:
                await asyncio.to_thread(proc.wait, 60)
            except subprocess.TimeoutExpired:
                proc.kill()
                tail = (self.tmp / f"{name}.log").read_text()[-2000:]
                raise RuntimeError(f"worker {name} did not stop within 60 s on SIGTERM:\n{tail}") from None
        stats = []
        for name in self.names:
            data = json.loads((self.tmp / f"{name}.json").read_text())
            stats.append(
                WorkerStats(data["statements"], data["cpu"], [(t, ids) for t, ids in data["claims"]])
            )
        return stats


async def seed(store: SqlStore, count: int) -> list[str]:
    """``count`` queued renders (each with its request and brief) in one transaction."""
    target = ReplyTarget("bench", "W1", "C1", "T1")
    ids: list[str] = []
    async with store.transaction() as tx:
        for i in range(count):
            request = VideoRequest(
                id=new_id("req"),
                target=target.in_thread(f"T{i}"),
                requester="U1",
                raw_text=f"clip {i}",
                options=RequestOptions(seconds=4),
                status=RequestStatus.QUEUED,
            )
            brief = Brief(
                request_id=request.id,
                version=1,
                prompt=f"clip {i}",
                subject="s",
                setting="s",
                style="s",
                lighting="s",
                camera="c",
                negative_prompt="",
                seconds=4,
                aspect="16:9",
                shots=(Shot(1, 4.0, "shot", "static"),),
            )
            render = Render(
                id=new_id("rnd"),
                request_id=request.id,
                brief_id=brief.id,
                brief_version=1,
                provider="instant",
                model="instant-1",
                seconds=4,
                size="1280x720",
            )
            await tx.add_request(request)
            await tx.add_brief(brief)
            await tx.add_renders(request, [render])
            ids.append(render.id)
    return ids


async def _ready(store: SqlStore, ids: list[str]) -> int:
    async with store.engine.connect() as conn:
        query = select(func.count()).where(renders_t.c.id.in_(ids), renders_t.c.status == "ready")
        return int((await conn.execute(query)).scalar_one())


async def _wait_ready(store: SqlStore, ids: list[str], *, seconds: float = 300.0) -> None:
    deadline = time.monotonic() + seconds
    while await _ready(store, ids) < len(ids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"renders not ready within {seconds:.0f} s")
        await asyncio.sleep(0.02)


async def claim_latency(url: str, tmp: Path) -> list[float]:
    store = SqlStore(make_engine(url))
    workers = Workers(url, tmp, 1, "lat")
    try:
        await _wait_ready(store, await seed(store, 1), seconds=120)  # up, migrated, listening
        queued: dict[str, float] = {}
        for i in range(LATENCY_SAMPLES):
            await asyncio.sleep(0.3 + (i % 7) * 0.1)  # idle, at varying phases of the tick
            started = time.time()
            [render_id] = await seed(store, 1)
            queued[render_id] = started
            await _wait_ready(store, [render_id], seconds=30)
    finally:
        [stats] = await workers.stop()
        await store.close()
    claimed = {rid: at for at, ids in stats.claims for rid in ids}
    return [claimed[rid] - at for rid, at in queued.items()]


BUSY: dict[int, float] = {}  # workers -> share of all cores busy while their renders ran


async def throughput(url: str, tmp: Path, count: int) -> tuple[float, list[WorkerStats]]:
    store = SqlStore(make_engine(url))
    workers = Workers(url, tmp, count, f"tp{count}_")
    try:
        await _wait_ready(store, await seed(store, count), seconds=120)  # one warm-up render each
        await asyncio.sleep(1.0)
        ids = await seed(store, RENDERS)
        busy0, total0 = cpu_ticks()
        await _wait_ready(store, ids)
        busy1, total1 = cpu_ticks()
        BUSY[count] = (busy1 - busy0) / max(total1 - total0, 1)
        events = await store.audit.audit_events()
        wanted = set(ids)
        submitted = [e.at for e in events if e.kind == "render.submitted" and e.render_id in wanted]
        ready = [e.at for e in events if e.kind == "render.ready" and e.render_id in wanted]
    finally:
        stats = await workers.stop()
        await store.close()
    return RENDERS / (max(ready) - min(submitted)).total_seconds(), stats


def _per_render(stats: list[WorkerStats]) -> str:
    claimed = sum(s.claimed for s in stats)
    cpu = sum(s.cpu for s in stats) / claimed
    statements = sum(s.statements for s in stats) / claimed
    return (
        f"worker CPU {cpu * 1000:.1f} ms/render, "
        f"{statements:.1f} SQL statements/render (an executemany counts once)"
    )


async def run() -> list[str]:
    lines = [
        f"(a) queue on `clipdesk worker` (instant provider, post-processing off, "
        f"concurrency {CONCURRENCY}, {RENDERS} renders)"
    ]
    for backend in ("sqlite", "postgres"):
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            if backend == "sqlite":
                url = f"sqlite:///{tmp / 'bench.db'}"
                upgrade(url)
            else:
                maybe = fresh_postgres(PG_URL, "clipdesk_bench_queue")
                if maybe is None:
                    lines.append(f"    postgres: unreachable at {PG_URL}, skipped")
                    continue
                url = maybe
            try:
                latency = await claim_latency(url, tmp)
                lines.append(
                    f"    {backend:<8} idle-worker claim latency: p50 {ms(percentile(latency, 50))}, "
                    f"p90 {ms(percentile(latency, 90))} (target p50 < 20 ms)"
                )
                counts = (1, 4) if backend == "postgres" else (1,)
                rates: dict[int, float] = {}
                for count in counts:
                    rate, stats = await throughput(url, tmp, count)
                    rates[count] = rate
                    lines.append(
                        f"    {backend:<8} {count} worker(s): {rate:7.1f} renders/s; {_per_render(stats)}; "
                        f"machine {BUSY[count]:.0%} busy on {os.cpu_count()} cores"
                    )
                if 4 in rates:
                    lines.append(
                        f"    {backend:<8} 4 workers / 1: {rates[4] / rates[1]:.2f}x (target >= 1.8x)"
                    )
            finally:
                if backend == "postgres":
                    drop_postgres(PG_URL, url)
    return lines
