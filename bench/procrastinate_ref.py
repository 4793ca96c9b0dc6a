"""The reference queue, measured in the same run: procrastinate on the same PostgreSQL, no-op jobs.

`python -m bench procrastinate_ref`. A procrastinate worker (its own process,
LISTEN/NOTIFY on, ``concurrency`` as clipdesk's bench worker) runs no-op jobs:
first-job latency of an idle worker (from just before the job is deferred to
the job starting) and jobs/s over a batch (first start to last finish), then
the same batch with four workers: how a mature queue scales on this machine's
cores is the yardstick for clipdesk's four workers.
Needs the ``bench`` extra (`make bench` installs it).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import PG_URL, cpu_ticks, drop_postgres, fresh_postgres, ms, percentile

JOBS = 2000
LATENCY_SAMPLES = 25
CONCURRENCY = 16
ROOT = Path(__file__).resolve().parents[1]


def _app(url: str) -> object:
    import procrastinate

    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))


def worker(url: str, out: Path) -> None:
    """The worker process: run no-op jobs until SIGTERM, then write when each started and ended."""
    app = _app(url)
    seen: list[tuple[float, float, float]] = []  # (deferred at, started, ended)

    @app.task(name="noop")  # type: ignore[attr-defined,misc]
    async def noop(sent: float) -> None:
        started = time.time()
        seen.append((sent, started, time.time()))

    atexit.register(lambda: out.write_text(json.dumps(seen)))

    async def main() -> None:
        async with app.open_async():  # type: ignore[attr-defined]
            await app.run_worker_async(concurrency=CONCURRENCY, wait=True, listen_notify=True)  # type: ignore[attr-defined]

    asyncio.run(main())


async def _measure(url: str, tmp: Path, workers: int) -> tuple[list[float], float, float]:
    """Idle-worker latencies (one worker only), jobs/s over a batch with ``workers`` processes, and
    the share of the machine's cores busy meanwhile."""
    outs = [tmp / f"procrastinate{workers}_{i}.json" for i in range(workers)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.procrastinate_ref", "worker", url, str(out)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for out in outs
    ]
    app = _app(url)
    async with app.open_async():  # type: ignore[attr-defined]
        noop = app.task(name="noop")(_noop)  # type: ignore[attr-defined]
        for _ in range(workers):
            await noop.defer_async(sent=time.time())
        await asyncio.sleep(3.0)  # started, idle
        if workers == 1:
            for i in range(LATENCY_SAMPLES):
                await noop.defer_async(sent=time.time())
                await asyncio.sleep(0.3 + (i % 7) * 0.1)
        await noop.batch_defer_async(*({"sent": 0.0} for _ in range(JOBS)))
        busy0, total0 = cpu_ticks()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            async with app.connector.pool.connection() as conn, conn.cursor() as cur:  # type: ignore[attr-defined]
                await cur.execute("SELECT count(*) FROM procrastinate_jobs WHERE status <> 'succeeded'")
                row = await cur.fetchone()
            if row and row[0] == 0:
                break
            await asyncio.sleep(0.05)
        busy1, total1 = cpu_ticks()
        async with app.connector.pool.connection() as conn, conn.cursor() as cur:  # type: ignore[attr-defined]
            await cur.execute("DELETE FROM procrastinate_jobs")  # the next run starts from an empty table
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        await asyncio.to_thread(proc.wait, 60)
    seen = [entry for out in outs for entry in json.loads(out.read_text())]
    latency = [started - sent for sent, started, _ in sorted(seen) if sent > 0][workers:]  # not the warm-ups
    batch = [(started, ended) for sent, started, ended in seen if sent == 0.0]
    rate = len(batch) / (max(e for _, e in batch) - min(s for s, _ in batch))
    return latency, rate, (busy1 - busy0) / max(total1 - total0, 1)


async def _noop(sent: float) -> None:
    return None


async def run() -> list[str]:
    try:
        import procrastinate
    except ModuleNotFoundError:
        return ["(ref) procrastinate not installed (pip install -e '.[bench]'), skipped"]
    url = fresh_postgres(PG_URL, "clipdesk_bench_procrastinate", migrate=False)
    if url is None:
        return [f"(ref) procrastinate: PostgreSQL unreachable at {PG_URL}, skipped"]
    try:
        app = _app(url)
        async with app.open_async():  # type: ignore[attr-defined]
            await app.schema_manager.apply_schema_async()  # type: ignore[attr-defined]
        with tempfile.TemporaryDirectory() as folder:
            latency, rate, busy = await _measure(url, Path(folder), 1)
            _, rate4, busy4 = await _measure(url, Path(folder), 4)
    finally:
        drop_postgres(PG_URL, url)
    return [
        f"(ref) procrastinate {procrastinate.__version__} on the same PostgreSQL, no-op jobs, "
        f"concurrency {CONCURRENCY}:",
        f"    idle-worker first-job latency p50 {ms(percentile(latency, 50))}, "
        f"p90 {ms(percentile(latency, 90))}; {rate:.0f} jobs/s ({JOBS} jobs, one worker; "
        f"machine {busy:.0%} busy)",
        f"    4 workers: {rate4:.0f} jobs/s, {rate4 / rate:.2f}x one worker "
        f"(machine {busy4:.0%} busy on {os.cpu_count()} cores)",
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2], Path(sys.argv[3]))
