"""The local animatic provider: a real H.264 storyboard of the brief, with no key and no network.

It is the embedded default, so it behaves like a remote provider: ``submit`` returns a
job id at once, ``status`` reports real progress, ``download`` copies the finished MP4.
Each job lives in its own folder under ``work_dir`` (``job.json``, ``progress.json``,
``clip.mp4``), so a job id means the same thing to every process sharing the folder.

Why one pool thread by default, on a 2-core machine: a libx264 encode with frame threads
already keeps both cores busy, and the Python side of a frame is a few Pillow and PyAV
calls that release the GIL (resize, paste, colour conversion, encode), so the event loop
stays responsive (measured: loop lag no worse than with a process pool). A second
concurrent render would only halve the speed of both, so later jobs report ``queued``.
A process pool would add a spawn that re-imports ``__main__`` (an unguarded script then
breaks the pool) or a fork of a threaded process, for no gain. Callers who want crash
isolation can still pass a ``ProcessPoolExecutor``: the work function is top level and
takes only a path and a number, so it pickles, and progress goes through a file.

What a frame shows and how it is drawn fast lives next door: :mod:`animatic_spec` (spec to
job), :mod:`animatic_plan` (shot timing, camera words), :mod:`animatic_scene` and
:mod:`animatic_shapes` (the picture), :mod:`animatic_cards` (the lettering) and
:mod:`animatic_render` (frames and the encoder).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import re
import shutil
import socket
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.providers.animatic_plan import AnimaticJob
from adapters.providers.animatic_render import render_animatic
from adapters.providers.animatic_spec import (
    DURATIONS,
    HIGH_SIZES,
    MAX_PROMPT_CHARS,
    MODEL,
    NAME,
    SIZES,
    job_from_spec,
    save_first_frame,
)

# What tests and other modules take from here (the provider's parts live in animatic_*.py).
__all__ = ["AnimaticJob", "AnimaticProvider", "job_from_spec", "render_animatic"]
from bot.errors import PermanentProviderError, TransientProviderError
from bot.ports import (
    Capabilities,
    Continuity,
    ModelSpec,
    RemoteState,
    RemoteStatus,
    RenderSpec,
    SourceType,
    Tier,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# A job owned by a process on another host is presumed dead after this long without a heartbeat.
STALE_SECONDS = 300.0
POLL_AFTER = 1.0
FIRST_FRAME = "first_frame.png"  # the job's own copy of the image it starts from

_JOB_ID = re.compile(r"^anim_[0-9a-f]{24}$")
_RUNNING: dict[str, concurrent.futures.Future[None]] = {}  # job dir -> future, process-wide
_RUNNING_LOCK = threading.Lock()


# ------------------------------------------------------------------------ the provider


class AnimaticProvider:
    """A ``VideoProvider`` that renders storyboard animatics locally, for free."""

    name = NAME

    def __init__(
        self,
        work_dir: Path,
        *,
        fps: int = 24,
        executor: concurrent.futures.Executor | None = None,
        title_card: bool = True,
        workers: int = 1,
    ) -> None:
        self.work_dir = Path(work_dir)
        self.workers = max(1, workers)  # shots of a cut drawn at once (each encode is one thread)
        self.fps = fps
        self.title_card = title_card
        self._executor = executor
        self._owns_executor = executor is None

    def capabilities(self) -> Capabilities:
        model = ModelSpec(
            name=MODEL,
            durations=DURATIONS,
            sizes=dict(SIZES),
            price_per_second=0.0,
            audio=False,
            max_prompt_chars=MAX_PROMPT_CHARS,
            quality_sizes={"high": dict(HIGH_SIZES)},
            # it can start from an image (a cut's previous shot), and it is the draft of last resort
            continuity=frozenset({Continuity.FIRST_FRAME}),
            tier=Tier.DRAFT,
            longest_shot=10,  # a storyboard card reads best at up to 10 s: a 60 s cut is six shots
        )
        return Capabilities(
            provider=NAME,
            models=(model,),
            default_model=MODEL,
            label="Local animatic (free, storyboard preview)",
            # A storyboard drawn by code, not a trained model: IPTC's algorithmicMedia.
            source_type=SourceType.ALGORITHMIC,
            idempotent_submit=True,
        )

    async def submit(self, spec: RenderSpec) -> str:
        """Start rendering in the background; the same spec for the same render reuses its job."""
        job = await self._job(spec)
        job_id = job.job_id
        folder = self._folder(job_id)
        record = _read_record(folder)
        if record is None:
            folder.mkdir(parents=True, exist_ok=True)
            if spec.first_frame is not None:
                await asyncio.to_thread(save_first_frame, spec.first_frame, folder / FIRST_FRAME)
            record = {
                "id": job_id,
                "job": job.to_dict(),
                "attempt": 0,
                "since": 0,
                "state": "active",
                "error": None,
                "owner": None,
                "created_at": time.time(),
            }
            _write_json(folder / "job.json", record)
        elif record["state"] == "failed":
            # a fresh budget of attempts; claim numbers keep rising so old claims never block
            record.update(state="active", error=None, since=record["attempt"])
            _write_json(folder / "job.json", record)
        if (
            not (folder / "clip.mp4").exists()
            and not _running_here(folder)
            and not _owner_alive(record, folder)
        ):
            self._start(folder, record)
        return job_id

    async def status(self, remote_id: str) -> RemoteStatus:
        """Report progress; a job whose owning process died is restarted under the same id.

        Resuming means re-rendering: a local render costs nothing and is deterministic, so
        starting again is simpler and safer than trusting a half-written MP4.
        """
        folder = self._folder(remote_id)
        record = _read_record(folder)
        if record is None:
            raise PermanentProviderError(f"no animatic job {remote_id}", provider=NAME)
        if (folder / "clip.mp4").exists():
            return RemoteStatus(RemoteState.COMPLETED, 100, cost=0.0)
        if record["state"] == "failed":
            return RemoteStatus(RemoteState.FAILED, error=record["error"], charged=False, cost=0.0)
        if not _running_here(folder) and not _owner_alive(record, folder):
            tries = int(record["attempt"]) - int(record.get("since", 0))
            if tries >= MAX_ATTEMPTS:
                error = f"the render was lost {tries} times; giving up"
                record.update(state="failed", error=error)
                _write_json(folder / "job.json", record)
                return RemoteStatus(RemoteState.FAILED, error=error, charged=False, cost=0.0)
            self._start(folder, record)
            return RemoteStatus(RemoteState.QUEUED, 0, poll_after=POLL_AFTER, cost=0.0)
        progress = _read_progress(folder, record["attempt"])
        if progress is None:
            return RemoteStatus(RemoteState.QUEUED, 0, poll_after=POLL_AFTER, cost=0.0)
        percent = min(99, progress["frames"] * 100 // max(1, progress["total"]))
        return RemoteStatus(RemoteState.RUNNING, percent, poll_after=POLL_AFTER, cost=0.0)

    async def download(self, remote_id: str, dest: Path) -> None:
        """Copy the finished clip to ``dest`` (a copy, so a retried download still finds it)."""
        source = self._folder(remote_id) / "clip.mp4"
        if not source.exists():
            raise PermanentProviderError(f"animatic job {remote_id} has no finished clip", provider=NAME)
        await asyncio.to_thread(_copy_atomic, source, Path(dest))

    async def find(self, spec: RenderSpec, *, since: datetime | None = None) -> str | None:
        """The job a submit of ``spec`` made, if any: job ids derive from the spec, so it is exact."""
        job_id = (await self._job(spec)).job_id
        return job_id if _read_record(self._folder(job_id)) is not None else None

    async def cancel(self, remote_id: str) -> None:
        """A local render costs nothing: it is left to finish and its clip is never collected."""

    def close(self) -> None:
        """Stop the pool this provider created (a caller's executor is the caller's to stop)."""
        if self._owns_executor and self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # ------------------------------------------------------------------ internals

    async def _job(self, spec: RenderSpec) -> AnimaticJob:
        if spec.first_frame is None:
            return job_from_spec(spec, self.fps, title_card=self.title_card)
        return await asyncio.to_thread(job_from_spec, spec, self.fps, title_card=self.title_card)

    def _folder(self, job_id: str) -> Path:
        if not _JOB_ID.match(job_id):
            raise PermanentProviderError(f"not an animatic job id: {job_id!r}", provider=NAME)
        return self.work_dir / job_id

    def _pool(self) -> concurrent.futures.Executor:
        if self._executor is None:
            pool = concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="animatic")
            self._executor = pool
        return self._executor

    def _start(self, folder: Path, record: dict[str, Any]) -> None:
        attempt = int(record["attempt"]) + 1
        try:  # the claim file makes two processes that both saw a dead owner restart it once
            os.close(os.open(folder / f"claim.{attempt}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        record.update(attempt=attempt, owner=_this_owner(), state="active", error=None)
        _write_json(folder / "job.json", record)
        for stale in folder.glob("clip.*.partial.mp4"):  # left by the attempt that died
            stale.unlink(missing_ok=True)
        key = str(folder.resolve())
        with _RUNNING_LOCK:
            try:
                future = self._pool().submit(run_job, str(folder), attempt)
            except (RuntimeError, concurrent.futures.BrokenExecutor) as exc:
                # the record now names this process with nothing running, so a later status()
                # retries with a fresh attempt (counted towards MAX_ATTEMPTS)
                raise TransientProviderError(
                    f"the animatic render pool is unusable: {exc}", provider=NAME
                ) from exc
            _RUNNING[key] = future
        future.add_done_callback(lambda done: _finished(folder, key, attempt, done))


def run_job(folder: str, attempt: int) -> None:
    """Render one attempt of the job in ``folder`` (runs in a pool thread or process)."""
    path = Path(folder)
    record = _read_record(path)
    if record is None:
        raise FileNotFoundError(f"{folder}/job.json is missing")
    job = AnimaticJob.from_dict(record["job"])
    partial = path / f"clip.{attempt}.{uuid.uuid4().hex[:8]}.partial.mp4"
    last = [-1]

    def report(frames: int, total: int) -> None:
        percent = frames * 100 // total
        if percent != last[0]:
            last[0] = percent
            _write_json(
                path / "progress.json",
                {"attempt": attempt, "frames": frames, "total": total, "at": time.time()},
            )

    try:
        first_frame = path / FIRST_FRAME if job.first_frame else None
        render_animatic(job, partial, report, first_frame)
        os.replace(partial, path / "clip.mp4")  # atomic: clip.mp4 exists only when whole
    finally:
        partial.unlink(missing_ok=True)


def _finished(folder: Path, key: str, attempt: int, future: concurrent.futures.Future[None]) -> None:
    with _RUNNING_LOCK:
        if _RUNNING.get(key) is future:
            del _RUNNING[key]
    error = future.exception() if not future.cancelled() else None
    if error is None or isinstance(error, concurrent.futures.BrokenExecutor):
        return  # a dead pool worker leaves the job orphaned, so the next status() retries it
    log.error("animatic job %s attempt %d failed", folder.name, attempt, exc_info=error)
    record = _read_record(folder)
    if record is not None and record["attempt"] == attempt:
        record.update(state="failed", error=f"the animatic render failed: {error}")
        _write_json(folder / "job.json", record)


# ------------------------------------------------------------- ownership and files


def _running_here(folder: Path) -> bool:
    with _RUNNING_LOCK:
        return str(folder.resolve()) in _RUNNING


def _process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid``, so a reused pid is not mistaken for the owner."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _this_owner() -> dict[str, Any]:
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "started": _process_start(pid)}


def _owner_alive(record: dict[str, Any], folder: Path) -> bool:
    owner = record.get("owner")
    if not owner:
        return False
    if owner["host"] != socket.gethostname():
        progress = _read_progress(folder, record["attempt"]) or {}
        beat = max(float(progress.get("at", 0.0)), (folder / "job.json").stat().st_mtime)
        return time.time() - beat < STALE_SECONDS
    pid = int(owner["pid"])
    if pid == os.getpid():
        return False  # this process owns it but is not running it: the pool lost it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = _process_start(pid)
    return started is None or owner.get("started") in (None, started)


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((folder / "job.json").read_text())
    except FileNotFoundError:
        return None
    return data


def _read_progress(folder: Path, attempt: int) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((folder / "progress.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if data.get("attempt") == attempt else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _copy_atomic(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
