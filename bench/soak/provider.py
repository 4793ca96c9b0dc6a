"""A flaky remote-like provider for the soak: random latency, random transient failures.

Its jobs live in files under ``root`` (shared by every process, like a remote service's
state outlives the caller), and every job it starts is logged with the render it is
for, so the soak can count provider jobs per render: more than one is a paid duplicate.
Failures follow the provider contract (bot/ports.py, bot/errors.py): a 429 before any
job exists (:class:`TransientProviderError`), a create whose answer is lost after the
job was made (:class:`SubmissionUncertain`, which the worker must reconcile with
:meth:`find`), and status or download calls that fail transiently.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import time
import uuid
from datetime import datetime
from pathlib import Path

from bot.errors import PermanentProviderError, SubmissionUncertain, TransientProviderError
from bot.ports import Capabilities, ModelSpec, RemoteState, RemoteStatus, RenderSpec
from tests.fakes.media import write_test_mp4

NAME = "flaky"
SIZES = {"16:9": "1280x720", "9:16": "720x1280", "1:1": "720x720"}


class FlakyProvider:
    """Jobs take ``min_seconds``–``max_seconds``; each call fails transiently with ``failure_rate``."""

    name = NAME

    def __init__(
        self,
        root: Path,
        *,
        min_seconds: float = 0.5,
        max_seconds: float = 4.0,
        failure_rate: float = 0.1,
        rng: random.Random | None = None,
    ) -> None:
        self.root = root
        self.min_seconds = min_seconds
        self.max_seconds = max_seconds
        self.failure_rate = failure_rate
        self.rng = rng or random.Random()
        root.mkdir(parents=True, exist_ok=True)

    def capabilities(self) -> Capabilities:
        return Capabilities(NAME, (ModelSpec(f"{NAME}-1", (2, 4, 8, 12), SIZES, 0.0),), f"{NAME}-1")

    def _unlucky(self) -> bool:
        return self.rng.random() < self.failure_rate

    async def submit(self, spec: RenderSpec) -> str:
        if self._unlucky():
            raise TransientProviderError("429 rate limited", provider=NAME, retry_after=0.2)
        job = f"job_{uuid.uuid4().hex[:12]}"
        record = {
            "render_id": spec.render_id,
            "created": time.time(),
            "takes": self.rng.uniform(self.min_seconds, self.max_seconds),
            "pid": os.getpid(),
            "seconds": spec.seconds,
            "size": spec.size,
        }
        (self.root / f"{job}.json").write_text(json.dumps(record))
        # One line per job started, appended atomically (O_APPEND, one short write).
        with (self.root / "jobs.log").open("a") as fh:
            fh.write(f"{spec.render_id} {job}\n")
        if self._unlucky():
            # The job exists but the answer is lost (a timeout, a cut connection).
            raise SubmissionUncertain("the create call timed out", provider=NAME)
        return job

    async def find(self, spec: RenderSpec, *, since: datetime | None = None) -> str | None:
        if self._unlucky():
            raise TransientProviderError("503 while listing jobs", provider=NAME)
        for path in sorted(self.root.glob("job_*.json")):
            if json.loads(path.read_text()).get("render_id") == spec.render_id:
                return path.stem
        return None

    async def cancel(self, remote_id: str) -> None:
        (self.root / f"{remote_id}.cancelled").touch()

    async def status(self, remote_id: str) -> RemoteStatus:
        if self._unlucky():
            raise TransientProviderError("502 bad gateway", provider=NAME, retry_after=0.2)
        data = json.loads((self.root / f"{remote_id}.json").read_text())
        elapsed = time.time() - data["created"]
        if elapsed < data["takes"]:
            return RemoteStatus(RemoteState.RUNNING, int(100 * elapsed / data["takes"]), poll_after=0.2)
        return RemoteStatus(RemoteState.COMPLETED, 100, cost=0.0)

    async def download(self, remote_id: str, dest: Path) -> None:
        if not (self.root / f"{remote_id}.json").exists():
            raise PermanentProviderError(f"job {remote_id} does not exist")
        if self._unlucky():
            raise TransientProviderError("connection reset during download", provider=NAME)
        data = json.loads((self.root / f"{remote_id}.json").read_text())
        # What was asked for, so QC passes: the soak is about the queue and the chat, not QC.
        seconds, size = float(data["seconds"]), str(data["size"])
        template = self.root / f"template_{seconds:g}_{size}.mp4"
        if not template.exists():
            # Encoded once per shape (off the event loop) and copied after.
            width, height = (int(v) for v in size.split("x"))
            scratch = self.root / f".{uuid.uuid4().hex}.mp4"
            await asyncio.to_thread(write_test_mp4, scratch, seconds, width, height, 24)
            scratch.replace(template)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, dest)


def jobs_per_render(root: Path) -> dict[str, list[str]]:
    """Every provider job started, by render id."""
    path = root / "jobs.log"
    jobs: dict[str, list[str]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            render_id, job = line.split()
            jobs.setdefault(render_id, []).append(job)
    return jobs
