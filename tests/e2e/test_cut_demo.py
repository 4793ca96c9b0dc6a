"""`clipdesk demo` of a 60 s film, keyless: a cut of six storyboard shots rendered at once, stitched.

The demo runs as an operator would run it (a subprocess, no keys); the test then reads
what it recorded (SQLite in the data folder) to check that each shot was its own job and
that the jobs ran at the same time, and decodes the cut to its last frame.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from datetime import datetime
from pathlib import Path

import pytest

from adapters.media.provenance import read_provenance
from tests.fakes.media import decode_to_end
from tests.support.cli_run import ROOT, clean_environment


def _intervals(db: Path) -> dict[str, tuple[datetime, datetime]]:
    """Each shot render's time from its submission to its shot.ready event."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT render_id, kind, at FROM audit_events WHERE kind IN ('render.submitted', 'shot.ready')"
        ).fetchall()
    started: dict[str, datetime] = {}
    ended: dict[str, datetime] = {}
    for render_id, kind, at in rows:
        (started if kind == "render.submitted" else ended)[render_id] = datetime.fromisoformat(str(at))
    return {rid: (started[rid], ended[rid]) for rid in ended}


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_demo_of_a_60_second_film_makes_a_cut_of_six_shots_rendered_in_parallel(tmp_path: Path) -> None:
    env = clean_environment(tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.runtime.cli",
        "demo",
        "a 60 second launch film for a steel water bottle",
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 540)
    assert proc.returncode == 0, err.decode()[-3000:]
    clip = Path(out.decode().strip().splitlines()[-1])

    facts = decode_to_end(clip)  # every frame decoded, to the last
    assert abs(facts.seconds - 60.0) <= 0.1 and facts.frames == 60 * 24

    sidecar = json.loads(clip.with_name(f"{clip.stem}.provenance.json").read_text())
    shots = sidecar["shots"]
    assert len(shots) >= 6
    assert [s["index"] for s in shots] == list(range(1, len(shots) + 1))
    assert sum(s["seconds_planned"] for s in shots) == 60
    assert all(s["provider"] == "animatic" and isinstance(s["seed"], int) for s in shots)
    ingredients = [i["title"] for i in sidecar["ingredients"]]
    assert ingredients == [f"shot {s['index']}" for s in shots]  # each shot clip is a C2PA ingredient
    assert read_provenance(clip).validates

    intervals = _intervals(tmp_path / "data" / "clipdesk.db")
    assert len(intervals) == len(shots)  # one provider job per shot
    spans = sorted(intervals.values())
    overlapping = [
        (a, b)
        for i, a in enumerate(spans)
        for b in spans[i + 1 :]
        if b[0] < a[1]  # b starts before a ends
    ]
    assert overlapping, f"the shots rendered one after another: {spans}"
