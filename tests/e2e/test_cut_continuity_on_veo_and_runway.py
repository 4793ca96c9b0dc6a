"""A continuous two-shot cut on Veo and on Runway, through their real SDKs against the fakes.

``clipdesk demo --seconds N`` asks for more than one job makes (Veo: 8 s, Runway gen4.5:
10 s), so the ask becomes a cut of two shots; asked for one continuous take, shot 2 starts
from shot 1's last frame. The fakes check the image the way the APIs take it — Veo as
``instances[0].image.bytesBase64Encoded`` (``GenerateVideosSource.image``), Runway as an
``image_to_video`` ``promptImage`` data URI at position "first" — and record its size.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from tests.e2e.paid_fakes import CREDENTIAL_ENV, PaidFake, running
from tests.e2e.test_demo_on_paid_providers import clipdesk_command
from tests.fakes.media import decode_to_end
from tests.fakes.runway import FakeRunway
from tests.fakes.veo import FakeVeo

pytestmark = pytest.mark.slow

# provider -> (seconds asked, each shot's length): two shots of the longest job each makes
CASES = {"veo": (16, 8), "runway": (20, 10)}
FAKE_CLIP = (192, 108)  # both fakes serve 16:9 clips at this size, so the last frame has it


async def _demo(fake: PaidFake, tmp_path: Path, seconds: int) -> Path:
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_ENV and not k.startswith("CLIPDESK_")}
    env.update(
        fake.env(),
        CLIPDESK_DATA_DIR=str(tmp_path / "data"),
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
        fake.name,
        "--seconds",
        str(seconds),
        "one continuous take of our steel water bottle on a kitchen counter",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=240)
    assert proc.returncode == 0, f"demo failed:\n{out.decode()}\n{err.decode()}"
    return Path(out.decode().strip().splitlines()[-1])


def _first_frames(fake: PaidFake) -> list[tuple[int, int] | None]:
    """Each job's first-frame image size (None: it started from text alone), in creation order."""
    server = fake.server  # type: ignore[attr-defined]
    if isinstance(server, FakeVeo):
        return [op.first_frame for op in server.operations.values()]
    assert isinstance(server, FakeRunway)
    return [task.first_frame for task in server.tasks.values()]


@pytest.mark.parametrize("provider", list(CASES))
async def test_a_continuous_two_shot_cut_starts_shot_two_from_shot_ones_last_frame(
    provider: str, tmp_path: Path
) -> None:
    seconds, shot = CASES[provider]
    async with running(provider, tmp_path) as fake:
        fake.full_length_clips()
        server = fake.server  # type: ignore[attr-defined]
        if isinstance(server, FakeRunway):
            server.script = (("SUCCEEDED", 1.0),)  # done on the first poll: Runway's 5 s hint, once
        clip = await _demo(fake, tmp_path, seconds)

        assert len(fake.jobs()) == 2 and fake.submit_calls() == 2  # two jobs, one per shot
        # shot 1 from text; shot 2 from shot 1's last frame, an image of the clip's size
        assert _first_frames(fake) == [None, FAKE_CLIP]
        if isinstance(server, FakeRunway):
            assert len(server.calls_to("/v1/text_to_video")) == 1
            (chained,) = server.calls_to("/v1/image_to_video")
            assert chained.body is not None and chained.body["model"] == "gen4.5"
            (image,) = chained.body["promptImage"]
            assert image["position"] == "first" and image["uri"].startswith("data:image/png;base64,")
        else:
            second = server.calls_to(":predictLongRunning")[1].body
            assert second is not None and second["instances"][0]["image"]["mimeType"] == "image/png"

    facts = await asyncio.to_thread(decode_to_end, clip)
    assert facts.seconds == pytest.approx(float(seconds), abs=0.1)
    sidecar = json.loads(clip.with_name(f"{clip.stem}.provenance.json").read_text())
    spans = [(s["start"], s["end"]) for s in sidecar["shots"]]
    assert spans == [(0.0, float(shot)), (float(shot), float(seconds))]
