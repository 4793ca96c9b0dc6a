"""Shared helpers for the benchmarks."""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.database import upgrade

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, to print next to timings."""
    return ", ".join(f"{n:.1f}" for n in os.getloadavg())


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def fresh_postgres(base: str, name: str, *, migrate: bool = True) -> str | None:
    """A new (migrated) database on the PostgreSQL server at ``base``; ``None`` if unreachable."""
    try:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception:
        return None
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    if migrate:
        upgrade(url)
    return url


def drop_postgres(base: str, url: str) -> None:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
