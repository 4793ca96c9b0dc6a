"""Workers in separate processes: kill -9 mid-render, and four replicas sharing one PostgreSQL queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.domain import RenderStatus, RequestStatus
from storage.database import make_engine
from storage.repository import SqlStore
from tests.fakes.media import decode_to_end
from tests.support.chat import read_file_chat
from tests.support.harness import make_harness
from tests.support.providers import FileJobProvider
from tests.support.seed import seed_queued
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def spawn_worker(tmp: Path, db_url: str, owner: str, **flags: object) -> subprocess.Popen[bytes]:
    args = [
        sys.executable,
        "-m",
        "tests.support.worker_proc",
        "--db",
        db_url,
        "--data",
        str(tmp / "data"),
        "--jobs",
        str(tmp / "jobs"),
        "--owner",
        owner,
    ]
    for key, value in flags.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def test_kill_9_mid_render_then_restart_finishes_with_one_provider_job(
    tmp_path: Path, db_url: str
) -> None:
    provider = FileJobProvider(tmp_path / "jobs", job_seconds=2.0)
    store = SqlStore(make_engine(db_url))
    try:
        [render_id] = await seed_queued(store, 1)
        victim = spawn_worker(tmp_path, db_url, "victim", lease=1.0, job_seconds=2.0)

        async def remote_started():  # type: ignore[no-untyped-def]
            render = await store.renders.get_render(render_id)
            return render if render and render.remote_id else None

        started = await wait_for(remote_started)
        assert started.lease_owner == "victim"
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()

        # A fresh worker (another process's lease has lapsed) resumes polling the same remote job.
        h = await make_harness(tmp_path, db_url, providers={"filejob": provider}, lease_seconds=1.0)
        try:
            request = await h.app.store.renders.get_render(render_id)
            assert request is not None
            done = await h.run_until(request.request_id, [RequestStatus.IN_REVIEW])
            render = await h.app.store.renders.get_render(render_id)
            assert render is not None and render.status == RenderStatus.READY
            assert render.remote_id == started.remote_id
            assert provider.submits() == [render_id]  # one provider job, not two
            assert render.clip_path and decode_to_end(Path(render.clip_path)).frames > 0
            assert done.status == RequestStatus.IN_REVIEW
        finally:
            await h.close()
    finally:
        await store.close()


async def test_clip_is_posted_once_when_the_worker_dies_between_render_and_post(
    tmp_path: Path, db_url: str
) -> None:
    store = SqlStore(make_engine(db_url))
    chat_log = tmp_path / "chat.jsonl"
    try:
        [render_id] = await seed_queued(store, 1)
        # This worker has no chat adapter for the platform: it renders, but cannot post.
        mute = spawn_worker(tmp_path, db_url, "mute")

        async def ready():  # type: ignore[no-untyped-def]
            render = await store.renders.get_render(render_id)
            return render is not None and render.status == RenderStatus.READY

        await wait_for(ready)
        os.kill(mute.pid, signal.SIGKILL)
        mute.wait()
        assert read_file_chat(chat_log) == []
        # Two replicas with chat adapters start; the outbox entry is posted exactly once.
        posters = [
            spawn_worker(tmp_path, db_url, f"poster{i}", chat=chat_log, exit_when_idle=2.0) for i in range(2)
        ]
        for proc in posters:
            assert proc.wait(timeout=120) == 0, proc.stderr.read().decode() if proc.stderr else ""
        clips = [row for row in read_file_chat(chat_log) if row["kind"] == "clip"]
        assert len(clips) == 1 and clips[0]["thread"] == "T0"
    finally:
        await store.close()


@pytest.mark.postgres
async def test_four_worker_processes_share_200_renders_with_zero_double_claims(
    tmp_path: Path, postgres_url: str
) -> None:
    store = SqlStore(make_engine(postgres_url))
    try:
        ids = await seed_queued(store, 200)
        claims = tmp_path / "claims.log"
        workers = [
            spawn_worker(tmp_path, postgres_url, f"w{i}", claims=claims, concurrency=4, exit_when_idle=3.0)
            for i in range(4)
        ]
        for proc in workers:
            assert proc.wait(timeout=600) == 0, proc.stderr.read().decode() if proc.stderr else ""
        lines = [line.split() for line in claims.read_text().splitlines()]
        per_render = Counter(render_id for render_id, _ in lines)
        assert set(per_render) == set(ids)
        assert max(per_render.values()) == 1, "a render was claimed twice"
        owners = Counter(owner for _, owner in lines)
        assert len(owners) == 4, f"work was not shared: {owners}"
        submits = Counter(FileJobProvider(tmp_path / "jobs").submits())
        assert len(submits) == 200 and max(submits.values()) == 1
        for render_id in ids:
            render = await store.renders.get_render(render_id)
            assert render is not None and render.status == RenderStatus.READY
    finally:
        await store.close()
