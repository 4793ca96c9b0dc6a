"""`clipdesk demo` with no keys and no network: a real, watermarked, signed MP4 of the requested length."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from adapters.media.provenance import read_provenance
from tests.fakes.media import decode_to_end

ROOT = Path(__file__).resolve().parents[2]
KEYS = (
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "RUNWAYML_API_SECRET",
    "SLACK_BOT_TOKEN",
    "DISCORD_BOT_TOKEN",
    "CLIPDESK_DATABASE_URL",
    "OPENAI_BASE_URL",
)


def corner_difference(a: Path, b: Path, frame_index: int) -> tuple[float, float]:
    """Mean absolute difference of one frame of two clips: in the bottom-right corner, and in the centre."""
    frames = []
    for path in (a, b):
        with av.open(str(path)) as container:
            for i, frame in enumerate(container.decode(video=0)):
                if i == frame_index:
                    frames.append(frame.to_ndarray(format="rgb24").astype(np.float32))
                    break
    first, second = frames
    h, w = first.shape[:2]
    corner = np.abs(first[int(h * 0.9) :, int(w * 0.55) :] - second[int(h * 0.9) :, int(w * 0.55) :]).mean()
    centre = np.abs(first[h // 3 : h // 2, w // 4 : w // 2] - second[h // 3 : h // 2, w // 4 : w // 2]).mean()
    return float(corner), float(centre)


@pytest.mark.slow
async def test_demo_makes_a_watermarked_signed_clip_of_the_requested_length(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env["CLIPDESK_DATA_DIR"] = str(tmp_path / "data")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.runtime.cli",
        "demo",
        "a 4 second product demo of our steel water bottle, vertical",
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    lines = out.decode().strip().splitlines()
    clip = Path(lines[-1])  # the path is printed last
    assert clip.is_file() and clip.suffix == ".mp4"
    assert any("Approve" in line for line in lines)

    facts = decode_to_end(clip)
    assert (facts.width, facts.height) == (720, 1280)
    assert facts.frames == 96 and facts.codec == "h264"
    assert abs(facts.seconds - 4.0) <= 0.1

    check = read_provenance(clip)
    assert check.validates, check.failures
    assert check.facts is not None and check.facts["provider"] == "animatic"
    sidecar = json.loads(clip.with_name(f"{clip.stem}.provenance.json").read_text())
    assert sidecar["digital_source_type"].endswith("/algorithmicMedia")  # a storyboard, no trained model
    assert sidecar["sha256"] and sidecar["watermark"]["text"]

    # The watermark changed the corner and left the picture alone.
    assert not any((tmp_path / "data" / "media" / "downloads").glob("*.mp4"))  # one copy: the final
    [download] = (tmp_path / "data" / "media" / "animatic").glob("*/clip.mp4")
    corner, centre = corner_difference(download, clip, 48)
    assert corner > 5 * max(centre, 0.5)
