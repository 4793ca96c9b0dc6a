"""`clipdesk demo --provider openai|veo|runway` as a user runs it, against the fakes in this event loop.

The command is a real subprocess configured only by environment variables (keys,
base URLs, data folder); it reaches the fakes over loopback while the test
awaits it without blocking the loop that serves them.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.e2e.paid_fakes import CREDENTIAL_ENV, PROVIDERS, running
from tests.fakes.media import decode_to_end

pytestmark = pytest.mark.slow


def clipdesk_command() -> list[str]:
    script = Path(sys.executable).with_name("clipdesk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "adapters.runtime.cli"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_demo_renders_a_real_clip_through_each_providers_sdk(tmp_path: Path, provider: str) -> None:
    async with running(provider, tmp_path) as fake:
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
        )
        proc = await asyncio.create_subprocess_exec(
            *clipdesk_command(),
            "demo",
            "--provider",
            provider,
            "a 4s product demo of our steel water bottle on a kitchen counter",
            cwd=tmp_path,  # no stray .env or clipdesk.toml from the repository
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
        output = out.decode()
        assert proc.returncode == 0, f"demo failed:\n{output}\n{err.decode()}"

        clip = Path(output.strip().splitlines()[-1])  # the demo prints the MP4's path last
        assert clip.suffix == ".mp4" and clip.is_relative_to(data.resolve())
        facts = await asyncio.to_thread(decode_to_end, clip)
        assert facts.frames > 0 and facts.seconds == pytest.approx(4, abs=0.5)
        assert len(fake.jobs()) == 1  # one job at the provider, made through its SDK
        assert fake.submit_calls() == 1
