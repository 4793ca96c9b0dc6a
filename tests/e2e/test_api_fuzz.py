"""Schemathesis against the OpenAPI document of a running ``clipdesk serve``: no input makes a 5xx."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.support.api_serve import serve

pytestmark = pytest.mark.timeout(300)
# Bounded: a few examples per operation and a time budget, so `make test` stays quick.
MAX_EXAMPLES = "10"
MAX_SECONDS = "60"


async def test_schemathesis_finds_no_server_error(tmp_path: Path) -> None:
    async with serve(tmp_path) as served:
        token = await served.token("T1", "U_FUZZ")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{served.base}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            MAX_EXAMPLES,
            "--max-time",
            MAX_SECONDS,
            "--seed",
            "1",
            "--no-shrink",
            "--workers",
            "2",
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 240)
        report = out.decode()
        assert proc.returncode == 0, report[-6000:]
        assert "generated" in report and "Server error" not in report
