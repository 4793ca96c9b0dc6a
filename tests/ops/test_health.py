"""`clipdesk health`: the probe of every process, workers included (they serve no /healthz)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.loopback import unused_port
from tests.support.cli_run import clipdesk


async def test_health_is_unhealthy_until_the_schema_is_migrated(tmp_path: Path) -> None:
    before = await clipdesk(tmp_path, "health")
    assert before.code == 1 and before.out.startswith("unhealthy: ") and "db upgrade" in before.out
    assert len(before.out.strip().splitlines()) == 1
    upgraded = await clipdesk(tmp_path, "db", "upgrade")
    assert upgraded.code == 0, upgraded.err
    after = await clipdesk(tmp_path, "health")
    assert after.code == 0 and after.out.startswith("healthy: ")


@pytest.mark.postgres
async def test_health_checks_a_postgres_database(tmp_path: Path, postgres_url: str) -> None:
    run = await clipdesk(tmp_path, "health", env={"CLIPDESK_DATABASE_URL": postgres_url})
    assert run.code == 0, run.out + run.err
    nowhere = f"postgresql://postgres@127.0.0.1:{unused_port()}/nowhere"
    down = await clipdesk(tmp_path, "health", "--wait", "1", env={"CLIPDESK_DATABASE_URL": nowhere})
    assert down.code == 1 and "database unreachable" in down.out


async def test_a_configuration_mistake_is_unhealthy_not_dockers_reserved_exit_code(tmp_path: Path) -> None:
    run = await clipdesk(tmp_path, "health", env={"CLIPDESK_WORKER_CONCURRENCY": "abc"})
    assert run.code == 1 and "CLIPDESK_WORKER_CONCURRENCY" in run.out
