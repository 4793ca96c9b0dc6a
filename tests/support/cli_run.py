"""Run the ``clipdesk`` command as an operator would: a subprocess with a clean environment."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_FOREIGN = ("CLIPDESK_", "SLACK_", "DISCORD_", "OPENAI_", "GEMINI_", "GOOGLE_", "RUNWAYML_")


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.strip().splitlines()


def clean_environment(tmp: Path) -> dict[str, str]:
    """This process's environment without any clipdesk, platform or provider setting; data in ``tmp``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
    clean.update(CLIPDESK_DATA_DIR=str(tmp / "data"), PYTHONPATH=str(ROOT))
    return clean


async def clipdesk(tmp: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    """Run ``clipdesk ARGS`` in ``tmp`` with a clean environment plus ``env``."""
    clean = clean_environment(tmp)
    clean.update(env or {})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.runtime.cli",
        *args,
        cwd=tmp,
        env=clean,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())
