"""(a) Renders completed per second through the full queue with an instant provider.

Worker processes (1 and 4) claim from one database, drive each render through
submit → poll → download → post-process → outbox, and post the clip. The rate
is measured between the first submit and the last ready render in the audit
trail, so process start-up is not counted.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import PG_URL, drop_postgres, fresh_postgres
from storage.database import make_engine, upgrade
from storage.repository import SqlStore
from tests.support.seed import seed_queued

RENDERS = 200
ROOT = Path(__file__).resolve().parents[1]


async def _run(url: str, workers: int, tmp: Path) -> float:
    store = SqlStore(make_engine(url))
    try:
        await seed_queued(store, RENDERS)
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.support.worker_proc",
                    "--db",
                    url,
                    "--data",
                    str(tmp / "data"),
                    "--jobs",
                    str(tmp / "jobs"),
                    "--owner",
                    f"bench{i}",
                    "--concurrency",
                    "4",
                    "--exit-when-idle",
                    "1.0",
                    "--chat",
                    str(tmp / "chat.jsonl"),
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for i in range(workers)
        ]
        for proc in procs:
            await asyncio.to_thread(proc.wait)
        events = await store.audit.audit_events()
        submitted = [e.at for e in events if e.kind == "render.submitted"]
        ready = [e.at for e in events if e.kind == "render.ready"]
        if len(ready) != RENDERS:
            raise RuntimeError(f"only {len(ready)} of {RENDERS} renders finished")
        return RENDERS / (max(ready) - min(submitted)).total_seconds()
    finally:
        await store.close()


async def run() -> list[str]:
    lines = [f"(a) queue throughput, instant provider, {RENDERS} renders, 4 renders in flight per worker"]
    for backend in ("sqlite", "postgres"):
        for workers in (1, 4):
            with tempfile.TemporaryDirectory() as folder:
                tmp = Path(folder)
                if backend == "sqlite":
                    url = f"sqlite:///{tmp / 'bench.db'}"
                    upgrade(url)
                else:
                    maybe = fresh_postgres(PG_URL, f"clipdesk_bench_q{workers}")
                    if maybe is None:
                        lines.append(f"    postgres: unreachable at {PG_URL}, skipped")
                        break
                    url = maybe
                try:
                    rate = await _run(url, workers, tmp)
                finally:
                    if backend == "postgres":
                        drop_postgres(PG_URL, url)
                lines.append(f"    {backend:<8} {workers} worker(s): {rate:7.1f} renders/s")
    return lines
