"""Re-render one shot of a cut from the thread: one new job, the other shots reused, cut v2 reviewed.

Runs the whole app in this process (SQLite, the worker, the real post-processor and the
local animatic) behind the console thread, typing what a person types.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from rich.console import Console

from adapters.console.chat import ConsoleChat
from adapters.console.session import ConsoleSession, _one_line, local_actor
from adapters.runtime.container import build_app
from bot.domain import RequestOptions, RequestStatus
from bot.event_kinds import EventKind
from tests.fakes.media import decode_to_end
from tests.support.harness import test_settings


def _sha(path: str | None) -> str:
    assert path is not None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


async def test_regenerate_shot_2_of_3_makes_one_new_job_reuses_the_rest_and_approval_names_cut_v2(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = test_settings(tmp_path, sqlite_url, provider="animatic", watermark=True)
    console = Console(record=True, width=240)
    chat = ConsoleChat(console)
    app = await build_app(settings, chat_ports=[chat], migrate=True)
    try:
        session = ConsoleSession(app, chat, local_actor())
        request = await session.ask(
            "a 12 second product demo of our steel water bottle", RequestOptions(shots=3)
        )
        assert request is not None
        request = await session.settle(request.id)
        assert request.status == RequestStatus.IN_REVIEW, request.failure_reason
        first = await app.store.cuts.latest_cut(request.id)
        assert first is not None and first.version == 1 and [s.seconds for s in first.shots] == [4, 4, 4]
        before = {s.index: await app.store.renders.get_render(s.render_id) for s in first.shots}
        kept = {i: _sha(r.clip_path) for i, r in before.items() if r is not None and i != 2}
        submitted = [
            e
            for e in await app.store.audit.audit_events(request_id=request.id)
            if e.kind == EventKind.RENDER_SUBMITTED
        ]
        assert len(submitted) == 3  # one job per shot
        console.export_text(clear=True)

        await _one_line(session, console, "regenerate shot 2")
        said = console.export_text(clear=True)
        request = await session.settle(request.id)
        assert request.status == RequestStatus.IN_REVIEW, request.failure_reason
        second = await app.store.cuts.latest_cut(request.id)
        assert second is not None and second.version == 2
        assert [s.render_id for s in second.shots if s.index != 2] == [
            s.render_id for s in first.shots if s.index != 2
        ]
        assert (
            second.shot(2).render_id != first.shot(2).render_id and second.shot(2).seed != first.shot(2).seed
        )
        submitted_after = [
            e
            for e in await app.store.audit.audit_events(request_id=request.id)
            if e.kind == EventKind.RENDER_SUBMITTED
        ]
        assert len(submitted_after) == 4  # exactly one new provider job
        assert submitted_after[-1].render_id == second.shot(2).render_id
        for index, digest in kept.items():  # the other shots' files are the same bytes, reused
            reused = await app.store.renders.get_render(second.shot(index).render_id)
            assert reused is not None and _sha(reused.clip_path) == digest
        assert "Rendering shot 2 again" in said and "Cut v2 is ready for review" in said

        stitched = await app.store.renders.get_render(second.render_id)
        assert stitched is not None and stitched.clip_path is not None
        facts = decode_to_end(Path(stitched.clip_path))
        assert abs(facts.seconds - 12.0) <= 0.1
        sidecar = json.loads(
            Path(stitched.clip_path).with_suffix("").with_suffix(".provenance.json").read_text()
        )
        assert [
            (s["index"], s["render_id"], s["provider"], s["model"], s["seed"]) for s in sidecar["shots"]
        ] == [(s.index, s.render_id, "animatic", "animatic-v1", s.seed) for s in second.shots]
        assert all("cost" in s for s in sidecar["shots"])

        await _one_line(session, console, "approve")
        said = console.export_text(clear=True)
        request = await session.settle(request.id)
        assert request.status == RequestStatus.APPROVED
        assert "cut v2)" in said  # the approval names the cut version
        reviews = [
            e
            for e in await app.store.audit.audit_events(request_id=request.id)
            if e.kind == EventKind.REVIEW_APPROVED
        ]
        assert [e.render_id for e in reviews] == [second.render_id]
    finally:
        await app.close()
