"""`clipdesk audit export` and `summary`, read back the way an auditor would."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from pathlib import Path

from bot.domain import RequestStatus
from bot.messages import Action
from tests.support.harness import LEAD, make_harness

ROOT = Path(__file__).resolve().parents[2]
R = RequestStatus


async def cli(db_url: str, tmp: Path, *args: str) -> str:
    env = {**os.environ, "CLIPDESK_DATABASE_URL": db_url, "CLIPDESK_DATA_DIR": str(tmp / "data")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.runtime.cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_audit_export_csv_and_jsonl_parse_back_with_every_decision(tmp_path: Path, db_url: str) -> None:
    h = await make_harness(tmp_path, db_url, approvers=LEAD.user_id, blocked_terms="deepfake")
    try:
        approved = await h.ask("a 4s clip of a kite")
        rejected = await h.ask("a 4s clip of a lighthouse")
        assert approved and rejected
        await h.run_until(approved.id, [R.IN_REVIEW])
        await h.run_until(rejected.id, [R.IN_REVIEW])
        await h.press(Action.APPROVE, approved, LEAD)
        await h.submit(Action.REJECT, rejected, {"reason": "too dark"}, LEAD)
        await h.ask("a deepfake of a rival --seconds 4")
    finally:
        await h.close()

    rows = list(
        csv.DictReader(io.StringIO(await cli(db_url, tmp_path, "audit", "export", "--format", "csv")))
    )
    kinds = [r["kind"] for r in rows]
    for kind in (
        "request.received",
        "brief.created",
        "moderation.checked",
        "request.queued",
        "render.submitted",
        "render.ready",
        "review.approved",
        "review.rejected",
        "request.blocked",
    ):
        assert kind in kinds, kind
    approval = next(r for r in rows if r["kind"] == "review.approved")
    assert approval["actor"] == LEAD.user_id and approval["request_id"] == approved.id
    assert json.loads(next(r for r in rows if r["kind"] == "review.rejected")["data"])["reason"] == "too dark"

    lines = (
        await cli(db_url, tmp_path, "audit", "export", "--format", "jsonl", "--since", "2000-01-01")
    ).splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["kind"] for e in events] == kinds
    assert next(e for e in events if e["kind"] == "request.blocked")["data"]["category"] == "blocked_term"

    summary = await cli(db_url, tmp_path, "audit", "summary")
    assert "requests 3 · approved 1 · rejected 1" in summary
    assert "blocked_term 1" in summary and "rejected: too dark" in summary
