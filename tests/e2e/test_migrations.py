"""Migrations under a lock: processes that start together take turns instead of racing."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL
from tests.support.cli_run import clipdesk


async def _upgrade(cwd: Path, url: str) -> tuple[int, str]:
    run = await clipdesk(cwd, "db", "upgrade", env={"CLIPDESK_DATABASE_URL": url})
    return run.code, run.out + run.err


@pytest.mark.postgres
async def test_four_upgrades_at_once_on_a_fresh_postgres_database_all_succeed(
    tmp_path: Path, postgres_url: str
) -> None:
    name = f"clipdesk_race_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        results = await asyncio.gather(*(_upgrade(tmp_path, url) for _ in range(4)))
        assert [code for code, _ in results] == [0, 0, 0, 0], [out for _, out in results]
        applied = sorted(int(out.split("(")[1].split(" ")[0]) for _, out in results)
        assert applied[-1] >= 2 and applied[:3] == [0, 0, 0]  # one migrated, three found it done
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def test_four_upgrades_at_once_on_a_fresh_sqlite_database_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    results = await asyncio.gather(*(_upgrade(tmp_path, url) for _ in range(4)))
    assert [code for code, _ in results] == [0, 0, 0, 0], [out for _, out in results]
