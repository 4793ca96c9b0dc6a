"""`clipdesk serve` and `clipdesk db upgrade` as an operator runs them."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from tests.fakes.loopback import unused_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLIPDESK_", "SLACK_", "DISCORD_"))}
    env.update(CLIPDESK_DATA_DIR=str(tmp / "data"), PYTHONPATH=str(ROOT), **extra)
    return env


async def test_serve_migrates_answers_health_checks_and_stops_cleanly(tmp_path: Path) -> None:
    port = unused_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.runtime.cli",
        "serve",
        cwd=tmp_path,
        env=clean_env(tmp_path, CLIPDESK_HTTP_PORT=str(port)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:

        async def health() -> dict[str, object] | None:
            try:
                async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as r:
                    found: dict[str, object] = await r.json()
                    return found
            except aiohttp.ClientConnectionError:
                return None

        body = await wait_for(health, seconds=60)
        assert body["ok"] is True
        assert (tmp_path / "data" / "clipdesk.db").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert "no chat platform configured" in err.decode()


async def test_db_upgrade_reports_what_it_applied(tmp_path: Path) -> None:
    async def upgrade() -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "adapters.runtime.cli",
            "db",
            "upgrade",
            cwd=tmp_path,
            env=clean_env(tmp_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        return out.decode()

    # Counted from the migrations folder so a new migration does not break this test.
    versions = Path(__file__).parents[2] / "storage" / "migrations" / "versions"
    migrations = len(list(versions.glob("[0-9][0-9][0-9][0-9]_*.py")))
    assert f"{migrations} migration(s) applied" in await upgrade()
    assert "0 migration(s) applied" in await upgrade()
