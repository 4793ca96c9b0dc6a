"""The local animatic provider behaves like a remote provider and makes a real, exact MP4."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from adapters.providers import animatic
from adapters.providers.animatic import AnimaticProvider, job_from_spec
from adapters.providers.animatic_cards import label_strip
from adapters.providers.animatic_plan import ShotCard, plan_shots
from bot.errors import PermanentProviderError
from bot.ports import Continuity, RemoteState, RemoteStatus, RenderSpec, SourceType, Tier, VideoProvider
from tests.fakes.media import decode_to_end
from tests.providers.animatic_support import luma_frames, make_brief, make_spec, ncc, wait_done


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[AnimaticProvider]:
    made = AnimaticProvider(tmp_path / "animatic")
    yield made
    made.close()


async def render(provider: AnimaticProvider, spec: RenderSpec, dest: Path) -> Path:
    job_id = await provider.submit(spec)
    seen = await wait_done(provider, job_id)
    assert seen[-1].state == RemoteState.COMPLETED, seen[-1]
    await provider.download(job_id, dest)
    return dest


def shot_changes(path: Path, spec: RenderSpec) -> tuple[list[int], int]:
    """Frames where the label strip (shot number, span, camera) changes, and the frame count."""
    job = job_from_spec(spec, 24)
    strip = label_strip(job, plan_shots(job)[0]).patch.planes.size[1]
    frames = luma_frames(path)
    changes = [
        i
        for i in range(1, len(frames))
        if float(np.abs(frames[i][:strip] - frames[i - 1][:strip]).mean()) > 1.0
    ]
    return changes, len(frames)


@pytest.mark.parametrize(("size", "aspect"), [("1280x720", "16:9"), ("720x1280", "9:16")])
async def test_submit_status_download_gives_an_exact_h264_clip(
    provider: AnimaticProvider, tmp_path: Path, size: str, aspect: str
) -> None:
    job_id = await provider.submit(make_spec(size, aspect))
    seen = await wait_done(provider, job_id)
    dest = tmp_path / "downloads" / "clip.mp4"
    await provider.download(job_id, dest)

    assert seen[-1] == RemoteStatus(RemoteState.COMPLETED, 100, cost=0.0)
    facts = decode_to_end(dest)
    width, height = (int(v) for v in size.split("x"))
    assert (facts.width, facts.height) == (width, height)
    assert facts.frames == 96
    assert abs(facts.seconds - 4.0) <= 0.1
    assert facts.codec == "h264"
    with av.open(str(dest)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"
    data = dest.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat"), "faststart puts the index first"


async def test_status_reports_real_progress_while_encoding(
    provider: AnimaticProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    halfway, resume = threading.Event(), threading.Event()
    real = animatic.render_animatic

    def paused(
        job: animatic.AnimaticJob,
        dest: Path,
        progress: Callable[[int, int], None] | None = None,
        first_frame: Path | None = None,
    ) -> None:
        def report(done: int, total: int) -> None:
            assert progress is not None
            progress(done, total)
            if done == total // 2:
                halfway.set()
                resume.wait(30)

        real(job, dest, report, first_frame)

    monkeypatch.setattr(animatic, "render_animatic", paused)
    job_id = await provider.submit(make_spec("720x720", "1:1"))
    assert await asyncio.to_thread(halfway.wait, 30)

    middle = await provider.status(job_id)
    resume.set()
    seen = await wait_done(provider, job_id)

    assert middle.state == RemoteState.RUNNING
    assert middle.progress == 50
    progress = [middle.progress] + [s.progress for s in seen]
    assert progress == sorted(progress)
    assert seen[-1].state == RemoteState.COMPLETED and seen[-1].progress == 100


async def test_a_4s_plus_4s_brief_gives_two_shots_of_exactly_4_seconds(
    provider: AnimaticProvider, tmp_path: Path
) -> None:
    spec = make_spec("1280x720", "16:9", 8, brief=make_brief(seconds=8))
    clip = await render(provider, spec, tmp_path / "clip.mp4")

    changes, frames = shot_changes(clip, spec)

    # the title card covers the start of shot 1 instead of taking time from the shots
    assert frames == 192 and changes == [96]
    assert abs(decode_to_end(clip).seconds - 8.0) <= 0.05


async def test_uneven_shots_keep_their_own_seconds_with_the_title_card_off(tmp_path: Path) -> None:
    provider = AnimaticProvider(tmp_path / "animatic", title_card=False)
    try:
        brief = make_brief(seconds=6, durations=(2.0, 4.0))
        spec = make_spec("720x720", "1:1", 6, brief=brief)
        clip = await render(provider, spec, tmp_path / "clip.mp4")
    finally:
        provider.close()

    changes, frames = shot_changes(clip, spec)

    assert frames == 144 and changes == [48]
    assert plan_shots(job_from_spec(spec, 24, title_card=False))[0].title_frames == 0


async def test_the_same_brief_renders_the_same_bytes(tmp_path: Path) -> None:
    clips = []
    for name in ("a", "b"):
        provider = AnimaticProvider(tmp_path / name)
        try:
            clips.append(await render(provider, make_spec("720x720", "1:1"), tmp_path / f"{name}.mp4"))
        finally:
            provider.close()

    assert clips[0].read_bytes() == clips[1].read_bytes()


def checkerboard(path: Path) -> Path:
    cells = (np.indices((9, 16)).sum(axis=0) % 2).astype(np.uint8)
    image = np.kron(cells, np.ones((80, 80), np.uint8))[..., None] * np.array([230, 40, 40], np.uint8)
    Image.fromarray(image, "RGB").save(path)
    return path


async def test_a_first_frame_opens_the_clip_and_dissolves_into_the_storyboard(
    provider: AnimaticProvider, tmp_path: Path
) -> None:
    start = checkerboard(tmp_path / "start.png")
    spec = make_spec("1280x720", "16:9", first_frame=start)
    clip = await render(provider, spec, tmp_path / "clip.mp4")

    frames = luma_frames(clip)
    wanted = np.asarray(Image.open(start).convert("L"), np.int16)
    picture = slice(300, 520)  # below the title card, above the shot's caption
    similarity = [ncc(frames[i][picture], wanted[picture]) for i in (0, 9, 30)]

    assert similarity[0] > 0.9, "frame 0 is the given image"
    assert similarity[0] > similarity[1] > similarity[2] and similarity[2] < 0.3
    assert job_from_spec(spec, 24).job_id != job_from_spec(make_spec("1280x720", "16:9"), 24).job_id
    assert Continuity.FIRST_FRAME in provider.capabilities().model().continuity


async def test_an_unreadable_first_frame_is_refused_before_any_work(
    provider: AnimaticProvider, tmp_path: Path
) -> None:
    bogus = tmp_path / "start.png"
    bogus.write_bytes(b"not a picture")

    with pytest.raises(PermanentProviderError, match="first-frame image"):
        await provider.submit(make_spec(first_frame=bogus))
    with pytest.raises(PermanentProviderError, match="first-frame image"):
        await provider.submit(make_spec(first_frame=tmp_path / "missing.png"))
    assert not provider.work_dir.exists() or not any(provider.work_dir.iterdir())


async def test_one_shot_of_a_cut_renders_that_shot_alone_under_its_number(
    provider: AnimaticProvider, tmp_path: Path
) -> None:
    brief = make_brief(seconds=8)
    second = brief.shots[1]
    spec = make_spec("720x720", "1:1", 4, brief=brief, prompt=second.description)
    clip = await render(provider, spec, tmp_path / "shot2.mp4")

    job = job_from_spec(spec, 24)
    assert job.shots == (ShotCard(second.description, "pan left", 4.0, 2),)
    assert job.total_shots == 2 and plan_shots(job)[0].title_frames == 0, "only shot 1 carries the title"
    assert decode_to_end(clip).frames == 96
    assert shot_changes(clip, spec)[0] == []


async def test_the_same_render_submitted_twice_is_one_job(provider: AnimaticProvider) -> None:
    first = await provider.submit(make_spec("720x720", "1:1"))
    again = await provider.submit(make_spec("720x720", "1:1"))
    await wait_done(provider, first)

    assert again == first
    claims = sorted(p.name for p in (provider.work_dir / first).glob("claim.*"))
    assert claims == ["claim.1"]


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def write_orphan(work_dir: Path, spec: RenderSpec, owner: dict[str, object]) -> str:
    """Leave a job as a process does when it dies mid-render: running, half a file, no clip."""
    job = job_from_spec(spec, 24)
    folder = work_dir / job.job_id
    folder.mkdir(parents=True)
    record = {
        "id": job.job_id,
        "job": job.to_dict(),
        "attempt": 1,
        "since": 0,
        "state": "active",
        "error": None,
        "owner": owner,
        "created_at": time.time(),
    }
    (folder / "job.json").write_text(json.dumps(record))
    (folder / "claim.1").touch()
    (folder / "progress.json").write_text(
        json.dumps({"attempt": 1, "frames": 40, "total": 96, "at": time.time()})
    )
    (folder / "clip.1.dead.partial.mp4").write_bytes(b"\x00" * 1000)
    return job.job_id


async def test_a_job_whose_process_died_restarts_under_the_same_id(
    provider: AnimaticProvider, tmp_path: Path
) -> None:
    owner = {"host": socket.gethostname(), "pid": dead_pid(), "started": None}
    job_id = write_orphan(provider.work_dir, make_spec("720x720", "1:1"), owner)

    first = await provider.status(job_id)
    seen = await wait_done(provider, job_id)
    dest = tmp_path / "clip.mp4"
    await provider.download(job_id, dest)

    assert first.state == RemoteState.QUEUED
    assert seen[-1].state == RemoteState.COMPLETED
    record = json.loads((provider.work_dir / job_id / "job.json").read_text())
    assert record["attempt"] == 2 and record["owner"]["pid"] == os.getpid()
    assert not list((provider.work_dir / job_id).glob("*.partial.mp4")), "the dead half-file is gone"
    assert decode_to_end(dest).frames == 96


async def test_a_job_owned_by_a_live_process_is_left_to_it(
    provider: AnimaticProvider,
) -> None:
    parent = os.getppid()
    owner = {
        "host": socket.gethostname(),
        "pid": parent,
        "started": animatic._process_start(parent),
    }
    job_id = write_orphan(provider.work_dir, make_spec("720x720", "1:1"), owner)

    status = await provider.status(job_id)

    assert status.state == RemoteState.RUNNING and status.progress == 41
    assert not (provider.work_dir / job_id / "claim.2").exists()


async def test_a_render_that_crashes_reports_failed_and_uncharged(
    provider: AnimaticProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(job: animatic.AnimaticJob, dest: Path, progress: object = None, first: object = None) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(animatic, "render_animatic", broken)
    job_id = await provider.submit(make_spec("720x720", "1:1"))
    seen = await wait_done(provider, job_id)

    assert seen[-1].state == RemoteState.FAILED
    assert seen[-1].charged is False and "disk full" in (seen[-1].error or "")


async def test_a_drawing_failure_fails_the_job_and_leaves_no_thread_behind(
    provider: AnimaticProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.providers import animatic_render

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("the world could not be drawn")

    monkeypatch.setattr(animatic_render, "draw_world", broken)
    job_id = await provider.submit(make_spec("720x720", "1:1"))
    seen = await wait_done(provider, job_id)

    assert seen[-1].state == RemoteState.FAILED and "could not be drawn" in (seen[-1].error or "")
    assert not [t for t in threading.enumerate() if t.name == "animatic-draw"]
    assert not list((provider.work_dir / job_id).glob("*.mp4")), "no half clip is kept"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"model": "sora-2"}, "model"),
        ({"seconds": 5}, "5 s"),
        ({"aspect": "4:3", "size": "960x720"}, "aspect"),
        ({"size": "1920x1920"}, "size"),
        ({"brief_prompt": "x" * 4001}, "characters"),
        ({"prompt": "x" * 4001}, "characters"),
    ],
)
async def test_an_invalid_spec_is_refused_permanently_before_any_work(
    provider: AnimaticProvider, changes: dict[str, object], reason: str
) -> None:
    with pytest.raises(PermanentProviderError, match=reason):
        await provider.submit(make_spec(**changes))  # type: ignore[arg-type]
    assert not provider.work_dir.exists() or not any(provider.work_dir.iterdir())


async def test_unknown_or_unfinished_jobs_are_clear_errors(
    provider: AnimaticProvider, tmp_path: Path
) -> None:
    with pytest.raises(PermanentProviderError, match="no animatic job"):
        await provider.status("anim_" + "0" * 24)
    with pytest.raises(PermanentProviderError, match="not an animatic job id"):
        await provider.status("../../etc/passwd")
    with pytest.raises(PermanentProviderError, match="no finished clip"):
        await provider.download("anim_" + "0" * 24, tmp_path / "x.mp4")


def test_capabilities_are_free_and_offer_the_standard_and_high_sizes(
    provider: AnimaticProvider,
) -> None:
    port: VideoProvider = provider
    assert isinstance(port, VideoProvider)
    caps = port.capabilities()
    model = caps.model()

    assert caps.provider == "animatic" and model.name == "animatic-v1"
    assert caps.source_type == SourceType.ALGORITHMIC
    assert model.tier == Tier.DRAFT and model.continuity == frozenset({Continuity.FIRST_FRAME})
    assert model.price_per_second == 0 and model.audio is False
    assert model.durations == (4, 6, 8, 10, 12, 16, 20)
    assert model.size_for("9:16") == "720x1280"
    assert model.size_for("1:1", "high") == "1080x1080"
    assert job_from_spec(make_spec("1920x1080", "16:9"), 24).width == 1920


@pytest.mark.slow
async def test_a_process_pool_can_run_the_encode(tmp_path: Path) -> None:
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        provider = AnimaticProvider(tmp_path / "animatic", executor=pool)
        job_id = await provider.submit(make_spec("720x720", "1:1"))
        seen = await wait_done(provider, job_id)
        await provider.download(job_id, tmp_path / "clip.mp4")

    assert seen[-1].state == RemoteState.COMPLETED
    assert decode_to_end(tmp_path / "clip.mp4").frames == 96
