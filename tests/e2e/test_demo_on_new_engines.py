"""`clipdesk demo --provider fal|replicate|luma|comfyui` as a user runs it, against the fakes in this loop.

The command is a real subprocess configured only by environment variables (keys,
base URLs, the ComfyUI server and workflow, the data folder).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.e2e.engine_fakes import ENGINE_ENV, ENGINES, running_engine
from tests.e2e.paid_fakes import CREDENTIAL_ENV
from tests.e2e.test_demo_on_paid_providers import clipdesk_command
from tests.fakes.media import decode_to_end

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("provider", ENGINES)
async def test_demo_renders_a_real_clip_through_each_new_engine(tmp_path: Path, provider: str) -> None:
    async with running_engine(provider, tmp_path) as fake:
        data = tmp_path / "data"
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in CREDENTIAL_ENV and k not in ENGINE_ENV and not k.startswith("CLIPDESK_")
        }
        env.update(
            fake.env(),
            CLIPDESK_DATA_DIR=str(data),
            CLIPDESK_AUTO_RENDER_MAX_COST="100",
            CLIPDESK_POLL_START_SECONDS="0.05",
            CLIPDESK_POLL_CAP_SECONDS="0.1",
            CLIPDESK_LOG_LEVEL="WARNING",
        )
        proc = await asyncio.create_subprocess_exec(
            *clipdesk_command(),
            "demo",
            "--provider",
            provider,
            fake.ask(),
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
        output = out.decode()
        assert proc.returncode == 0, f"demo failed:\n{output}\n{err.decode()}"
        clip = Path(output.strip().splitlines()[-1])
        assert clip.suffix == ".mp4" and clip.is_relative_to(data.resolve())
        facts = await asyncio.to_thread(decode_to_end, clip)
        assert facts.frames > 0 and facts.seconds == pytest.approx(fake.seconds, abs=0.5)
        assert len(fake.jobs()) == 1 and fake.submit_calls() == 1
