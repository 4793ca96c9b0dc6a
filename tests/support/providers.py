"""Video providers for tests and benchmarks that behave like remote services.

``FileJobProvider`` keeps its jobs in files, so a job outlives the worker process
that created it — exactly what a remote provider does — and counts every
submit, so tests can prove a crashed render was not paid for twice.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import uuid
from datetime import datetime
from pathlib import Path

from bot.errors import CapacityError, ContentRefused, PermanentProviderError, TransientProviderError
from bot.ports import Capabilities, ModelSpec, RemoteState, RemoteStatus, RenderSpec
from tests.fakes.media import write_test_mp4

SIZES = {"16:9": "1280x720", "9:16": "720x1280", "1:1": "720x720"}


class FileJobProvider:
    """A remote-like provider whose job state lives in ``root`` (shared across processes)."""

    def __init__(
        self,
        root: Path,
        *,
        name: str = "filejob",
        job_seconds: float = 0.0,
        price: float = 0.0,
        clip_seconds: float | None = None,
        clip_size: str = "160x90",
        fail_submits: int = 0,
        refuse: bool = False,
        down: bool = False,
        garbage: bool = False,
    ) -> None:
        self.root = root
        self.name = name
        self.job_seconds = job_seconds
        self.price = price
        self.clip_seconds = clip_seconds
        self.clip_size = clip_size
        self.fail_submits = fail_submits
        self.refuse = refuse
        self.down = down
        self.garbage = garbage
        root.mkdir(parents=True, exist_ok=True)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            self.name, (ModelSpec(f"{self.name}-1", (2, 4, 8, 12), SIZES, self.price),), f"{self.name}-1"
        )

    def _log(self, line: str) -> None:
        with (self.root / "submits.log").open("a") as fh:
            fh.write(line + "\n")

    def submits(self) -> list[str]:
        path = self.root / "submits.log"
        return path.read_text().split() if path.exists() else []

    async def submit(self, spec: RenderSpec) -> str:
        if self.down:
            raise CapacityError(f"{self.name} is down", provider=self.name)
        if self.refuse:
            raise ContentRefused("the prompt violates our usage policy", provider=self.name)
        failures = self.root / "failures"
        count = int(failures.read_text()) if failures.exists() else 0
        if count < self.fail_submits:
            failures.write_text(str(count + 1))
            raise TransientProviderError("429 rate limited", provider=self.name, retry_after=0.01)
        job = f"job_{uuid.uuid4().hex[:12]}"
        (self.root / f"{job}.json").write_text(
            json.dumps(
                {
                    "render_id": spec.render_id,
                    "created": time.time(),
                    "seconds": spec.seconds,
                    "size": spec.size,
                }
            )
        )
        self._log(spec.render_id)
        return job

    async def find(self, spec: RenderSpec, *, since: datetime | None = None) -> str | None:
        for job in sorted(self.root.glob("job_*.json")):
            if json.loads(job.read_text()).get("render_id") == spec.render_id:
                return job.stem
        return None

    async def cancel(self, remote_id: str) -> None:
        (self.root / f"{remote_id}.cancelled").touch()

    async def status(self, remote_id: str) -> RemoteStatus:
        data = json.loads((self.root / f"{remote_id}.json").read_text())
        elapsed = time.time() - data["created"]
        if self.job_seconds and elapsed < self.job_seconds:
            return RemoteStatus(RemoteState.RUNNING, int(100 * elapsed / self.job_seconds), poll_after=0.05)
        return RemoteStatus(RemoteState.COMPLETED, 100, cost=self.price * data["seconds"])

    async def download(self, remote_id: str, dest: Path) -> None:
        if not (self.root / f"{remote_id}.json").exists():
            raise PermanentProviderError(f"job {remote_id} has expired")
        if self.garbage:
            dest.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
            return
        width, height = (int(v) for v in self.clip_size.split("x"))
        seconds = self.clip_seconds if self.clip_seconds is not None else 0.5
        template = self.root / f"template_{seconds}_{width}x{height}.mp4"
        if not template.exists():
            # Encode once per size and copy after: the queue, not the encoder, is under test.
            scratch = self.root / f".{uuid.uuid4().hex}.mp4"
            await asyncio.to_thread(write_test_mp4, scratch, seconds, width, height, 24)
            scratch.replace(template)
        dest.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copyfile, template, dest)
