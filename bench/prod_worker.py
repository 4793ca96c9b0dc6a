"""`clipdesk worker` as production runs it, for the queue benchmark: `python -m bench.prod_worker`.

Only two factories differ from production: the provider is :class:`InstantProvider`
(a job is done the moment it is made, so the queue, not a provider, is measured)
and post-processing is off (the download becomes the clip). Everything else — the
CLI, settings from the environment, the doctor's start-up checks, migrations, the
scheduler, the worker loop, LISTEN/NOTIFY wake-ups, the graceful stop — is the
production code path.

For the figures it counts SQL statements (a SQLAlchemy cursor hook) and writes,
on exit, one JSON line to ``$BENCH_STATS``: statements and CPU seconds since the
first claim, and the wall time of every claim (``$BENCH_CLAIMS``, one line per
claim: time and render ids).
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

from adapters.runtime.settings import Settings
from bot.domain import Brief, Render, VideoRequest
from bot.ports import (
    Capabilities,
    MediaStore,
    ModelSpec,
    ProcessedClip,
    RemoteState,
    RemoteStatus,
    RenderSpec,
    VideoProvider,
)


class InstantProvider:
    """A provider whose jobs are finished when made; the clip is a tiny file, made once and linked
    into place by each download (on this machine's disk a new file costs 0.6 ms of the worker's
    CPU, a link 0.02 ms: a provider's cost, not the queue's)."""

    name = "instant"
    CLIP = b"\x00\x00\x00\x18ftypmp42 instant bench clip"

    def capabilities(self) -> Capabilities:
        sizes = ("1280x720", "720x1280", "1920x1080", "1080x1920", "1024x1024")
        return Capabilities(self.name, (ModelSpec("instant-1", (2, 4, 8, 12), sizes, 0.0),), "instant-1")

    async def submit(self, spec: RenderSpec) -> str:
        return f"job_{uuid.uuid4().hex[:12]}"

    async def find(self, spec: RenderSpec, *, since: datetime | None = None) -> str | None:
        return None

    async def cancel(self, remote_id: str) -> None:
        return None

    async def status(self, remote_id: str) -> RemoteStatus:
        return RemoteStatus(RemoteState.COMPLETED, 100, cost=0.0)

    async def download(self, remote_id: str, dest: Path) -> None:
        clip = dest.parent / ".instant-clip.mp4"
        if not clip.exists():
            clip.write_bytes(self.CLIP)
        dest.unlink(missing_ok=True)  # a retried download replaces what it left
        os.link(clip, dest)


class NoPost:
    """Post-processing off: the downloaded file becomes the clip (moved into place, not copied: on
    this machine's disk a copy costs 0.85 ms, a rename 0.03 ms, and the copy is no queue work)."""

    def __init__(self, media: MediaStore) -> None:
        self.media = media

    async def process(self, render: Render, brief: Brief, request: VideoRequest, clip: Path) -> ProcessedClip:
        dest = self.media.clip_path(render.id)
        os.replace(clip, dest)
        return ProcessedClip(path=dest)


class _Counters:
    statements = 0
    started_cpu: float | None = None
    started_statements = 0
    claims: ClassVar[list[tuple[float, list[str]]]] = []


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _instrument() -> None:
    from storage.renders import SqlRenders

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        _Counters.statements += 1

    observe = SqlRenders.claimed

    def timed_claim(self: SqlRenders, renders: list[Render], now: datetime) -> None:
        # Called when a claim's transaction has committed (see storage.repository).
        observe(self, renders, now)
        if renders:
            if _Counters.started_cpu is None:
                _Counters.started_cpu = _cpu()
                _Counters.started_statements = _Counters.statements
            _Counters.claims.append((time.time(), [r.id for r in renders]))

    SqlRenders.claimed = timed_claim  # type: ignore[method-assign]

    def _write() -> None:
        path = os.environ.get("BENCH_STATS")
        if not path:
            return
        stats = {
            "statements": _Counters.statements - _Counters.started_statements,
            "cpu": _cpu() - (_Counters.started_cpu or _cpu()),
            "claims": _Counters.claims,
        }
        Path(path).write_text(json.dumps(stats))

    atexit.register(_write)


def main() -> None:
    from adapters.runtime import cli, container

    production_providers = container.build_providers

    def with_instant(settings: Settings) -> dict[str, VideoProvider]:
        return {**production_providers(settings), "instant": InstantProvider()}

    container.build_providers = with_instant
    container.build_postprocessor = lambda settings, media, providers: NoPost(media)  # type: ignore[assignment]
    _instrument()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        atexit.register(lambda: profiler.dump_stats(os.environ["BENCH_PROFILE"]))
    sys.argv = ["clipdesk", "worker"]
    cli.main()


if __name__ == "__main__":
    main()
