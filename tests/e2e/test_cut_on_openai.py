"""`clipdesk demo --provider openai --seconds 36` against the OpenAI-compatible fake (12 s per job).

The gateway makes at most 12 s per job, so a 36 s ask becomes a cut of three jobs; asked
for one continuous take, shots 2 and 3 start from the previous shot's last frame, which
the fake sees as an ``input_reference`` image of the requested size on create.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import av
import numpy as np
import pytest

from tests.e2e.paid_fakes import CREDENTIAL_ENV, running
from tests.e2e.test_demo_on_paid_providers import clipdesk_command
from tests.fakes.media import decode_to_end

pytestmark = pytest.mark.slow


def _seam_jumps(clip: Path, seams: list[float], fps: float) -> list[float]:
    """Mean absolute luma change across each seam (the frames either side of it)."""
    wanted = {round(s * fps) - 1 for s in seams} | {round(s * fps) for s in seams}
    lumas: dict[int, np.ndarray] = {}
    with av.open(str(clip)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in wanted:
                lumas[i] = frame.to_ndarray(format="gray").astype(np.float32)
    return [float(np.abs(lumas[round(s * fps)] - lumas[round(s * fps) - 1]).mean()) for s in seams]


async def test_a_36_second_continuous_ask_on_a_12_second_gateway_is_three_chained_jobs(
    tmp_path: Path,
) -> None:
    async with running("openai", tmp_path) as fake:
        fake.full_length_clips()
        data = tmp_path / "data"
        env = {
            k: v for k, v in os.environ.items() if k not in CREDENTIAL_ENV and not k.startswith("CLIPDESK_")
        }
        env.update(
            fake.env(),
            CLIPDESK_DATA_DIR=str(data),
            CLIPDESK_AUTO_RENDER_MAX_COST="100",
            CLIPDESK_POLL_START_SECONDS="0.05",
            CLIPDESK_POLL_CAP_SECONDS="0.1",
            CLIPDESK_LOG_LEVEL="WARNING",
            CLIPDESK_REFINER="offline",
        )
        proc = await asyncio.create_subprocess_exec(
            *clipdesk_command(),
            "demo",
            "--provider",
            "openai",
            "--seconds",
            "36",
            "one continuous take of our steel water bottle on a kitchen counter",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=240)
        assert proc.returncode == 0, f"demo failed:\n{out.decode()}\n{err.decode()}"
        clip = Path(out.decode().strip().splitlines()[-1])

        server = fake.server  # type: ignore[attr-defined]
        creates = server.calls_to("POST", "/v1/videos")
        assert len(creates) == 3 and len(fake.jobs()) == 3  # three jobs, one per 12 s shot
        assert sorted(v.seconds for v in server.videos.values()) == ["12", "12", "12"]
        # shots 2 and 3 continue the take: each starts from the previous shot's last frame
        chained = [v for v in server.videos.values() if v.input_reference is not None]
        assert len(chained) == 2 and all(v.input_reference == (1280, 720) for v in chained)
        assert all(
            c.body.get("input_reference", "").startswith("<file")
            for c in creates
            if "input_reference" in c.body
        )

    facts = await asyncio.to_thread(decode_to_end, clip)
    assert facts.seconds == pytest.approx(36.0, abs=0.1)
    sidecar = json.loads(clip.with_name(f"{clip.stem}.provenance.json").read_text())
    assert [(s["start"], s["end"]) for s in sidecar["shots"]] == [(0.0, 12.0), (12.0, 24.0), (24.0, 36.0)]
    assert not [q for q in sidecar["qc"] if q["kind"] in ("seam_flash", "seam_jump")]  # seams checked: clean
    jumps = await asyncio.to_thread(_seam_jumps, clip, [12.0, 24.0], facts.fps)
    assert len(jumps) == 2 and all(np.isfinite(jumps))
