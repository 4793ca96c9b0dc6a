"""`clipdesk chat`: an interactive console thread driven through its standard input."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def test_chat_takes_a_request_to_an_approval(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CLIPDESK_", "OPENAI_", "SLACK_", "DISCORD_"))
    }
    env.update(CLIPDESK_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT), COLUMNS="200")
    script = "/video a 4s clip of a red kite over a hill, square\nregenerate\napprove\n/video status\nquit\n"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.runtime.cli",
        "chat",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(script.encode()), 300)
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "Brief v1" in text and "Brief v2" in text
    assert text.count("Your clip is ready for review") == 2
    assert "approved by @" in text
    assert "You have no open video requests" in text
