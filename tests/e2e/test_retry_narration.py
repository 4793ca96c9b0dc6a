"""Retry narration: a clip whose voice failed goes out with captions, and one press narrates it.

The whole app runs in this process behind the console thread; a speech engine that is down
at first stands in for a TTS outage. No second provider job may be made for the voice.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from rich.console import Console

from adapters.console.chat import ConsoleChat
from adapters.console.session import ConsoleSession, _one_line, local_actor
from adapters.media.postprocess import MediaPostProcessor
from adapters.runtime.container import build_app
from bot import texts
from bot.domain import RequestOptions, RequestStatus
from bot.event_kinds import EventKind
from tests.fakes.media import decode_to_end
from tests.media.test_explainer_clip import SwitchableSpeech
from tests.support.harness import test_settings
from tests.support.providers import FileJobProvider


def sound_level(path: Path) -> float:
    """RMS of the clip's whole sound track (0.0 without one)."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return 0.0
        chunks = [frame.to_ndarray().astype(np.float64).ravel() for frame in container.decode(audio=0)]
    samples = np.concatenate(chunks) if chunks else np.zeros(1)
    return float(np.sqrt(np.mean(samples**2)))


async def test_retry_narration_voices_the_same_clip_without_a_new_provider_job(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = test_settings(tmp_path, sqlite_url, auto_render_max_cost=5.0)
    provider = FileJobProvider(tmp_path / "jobs")
    provider.clip_size, provider.clip_seconds = "1280x720", 8.0
    console = Console(record=True, width=240)
    chat = ConsoleChat(console)
    app = await build_app(settings, chat_ports=[chat], providers={"filejob": provider})
    post = app.worker.ctx.post
    assert isinstance(post, MediaPostProcessor)
    speech = SwitchableSpeech()  # down: every line fails
    post.speech = speech
    try:
        session = ConsoleSession(app, chat, local_actor())
        request = await session.ask("explain laminar vs turbulent flow", RequestOptions(seconds=8))
        assert request is not None
        request = await session.settle(request.id)
        assert request.status == RequestStatus.IN_REVIEW, request.failure_reason
        said = console.export_text(clear=True)
        assert "could not be made this time" in said and "Retry narration" in said
        [render] = [r for r in await app.store.renders.renders_for(request.id) if r.shot is None]
        assert render.clip_path is not None
        voiceless = decode_to_end(Path(render.clip_path))
        assert sound_level(Path(render.clip_path)) < 0.01
        jobs = provider.submits()

        speech.broken = False
        await _one_line(session, console, "renarrate")
        request = await session.settle(request.id)
        assert request.status == RequestStatus.IN_REVIEW  # still waiting for its decision
        said = console.export_text(clear=True)
        assert "Your clip is ready for review" in said and "could not be made" not in said
        narrated = await app.store.renders.get_render(render.id)
        assert narrated is not None and narrated.clip_path is not None
        assert narrated.provenance_digest != render.provenance_digest  # re-signed with the voice
        clip = decode_to_end(Path(narrated.clip_path))
        assert abs(clip.seconds - voiceless.seconds) < 0.05
        assert sound_level(Path(narrated.clip_path)) > 0.01
        assert provider.submits() == jobs  # the voice cost no new render
        kinds = [e.kind for e in await app.store.audit.audit_events(request_id=request.id)]
        assert kinds.count(EventKind.RENDER_RENARRATED) == 1

        # Once voiced there is nothing to retry: a clear answer, and nothing recorded.
        await _one_line(session, console, "renarrate")
        assert texts.NARRATION_NOT_FAILED in console.export_text(clear=True)
        kinds = [e.kind for e in await app.store.audit.audit_events(request_id=request.id)]
        assert kinds.count(EventKind.RENDER_RENARRATED) == 1
    finally:
        await app.close()
