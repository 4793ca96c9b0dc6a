"""The animatic shows the shot: its subject as a shape, and the camera move it was asked for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adapters.media.qc import inspect_clip
from adapters.providers.animatic_plan import Move, read_camera
from adapters.providers.animatic_render import render_animatic
from adapters.providers.animatic_scene import read_scene
from adapters.providers.animatic_spec import job_from_spec
from bot.refiner import _GENRES, _STORY
from tests.providers.animatic_support import decoded_frames, make_brief, make_spec

# Every camera direction the offline refiner writes, and a few the OpenAI refiner's schema invites.
CAMERA_MOVES = {
    "slow push-in": Move.PUSH_IN,
    "macro slider move": Move.PAN,
    "handheld follow": Move.HANDHELD,
    "orbit at product height": Move.ORBIT,
    "locked-off wide": Move.LOCKED,
    "static frame": Move.LOCKED,
    "slow zoom on the diagram": Move.PUSH_IN,
    "gentle pan across": Move.PAN,
    "split-screen hold": Move.LOCKED,
    "slow pull-out": Move.PULL_OUT,
    "top-down static": Move.LOCKED,
    "over-the-shoulder": Move.LOCKED,
    "close-up insert": Move.LOCKED,
    "slow reveal pull-back": Move.PULL_OUT,
    "whip pan": Move.PAN,
    "fast dolly-in": Move.PUSH_IN,
    "low-angle hero": Move.LOCKED,
    "snap zoom": Move.PUSH_IN,
    "slow dolly-in": Move.PUSH_IN,
    "steady tracking shot": Move.PAN,
    "crane up": Move.TILT,
    "handheld close": Move.HANDHELD,
    "dolly out": Move.PULL_OUT,
    "tilt down to the label": Move.TILT,
    "aerial drone sweep over the coast": Move.PAN,
    "360 turntable spin": Move.ORBIT,
}


def test_every_camera_the_offline_refiner_writes_maps_to_a_move() -> None:
    written = {camera for genre in (*_GENRES, _STORY) for camera in genre.cameras}

    assert written <= set(CAMERA_MOVES), f"map these camera words: {written - set(CAMERA_MOVES)}"
    for camera, move in CAMERA_MOVES.items():
        assert read_camera(camera).kind is move, camera


def test_direction_speed_and_framing_come_from_the_words() -> None:
    assert read_camera("pan left").direction == -1 and read_camera("pan right").direction == 1
    assert read_camera("tilt down").direction == -1 and read_camera("crane up").direction == 1
    assert read_camera("slow pan").strength < read_camera("pan").strength < read_camera("whip pan").strength
    assert read_camera("handheld close").framing > 1 > read_camera("locked-off wide").framing
    assert read_camera("static", "Close-up on the materials").framing > 1


def render_shot(camera: str, tmp_path: Path) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """A 4 s one-shot clip with ``camera``: its subject mask in the first and last frame, all frames."""
    brief = make_brief([("A steel bottle stands on the counter", camera)], seconds=4, aspect="1:1")
    job = job_from_spec(make_spec("720x720", "1:1", 4, brief=brief), 24, title_card=False)
    clip = tmp_path / f"{camera.replace(' ', '_')}.mp4"
    render_animatic(job, clip)
    frames = decoded_frames(clip)
    assert len(frames) == 96, "decoded to the last frame"
    colour = read_scene(
        job.subject, job.setting, brief.shots[0].description, job.lighting, job.style, 1.0, job.seed % 2**32
    ).palette.subject
    masks = [np.abs(f.astype(np.int16) - colour).sum(axis=2) < 45 for _, f in sorted(frames.items())]
    return masks[0], masks[-1], [f for _, f in sorted(frames.items())]


def centre(mask: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(mask)
    assert len(xs) > 500, "the subject shape is on screen"
    return float(xs.mean()), float(ys.mean())


def test_a_push_in_grows_the_subject_and_a_pull_out_shrinks_it(tmp_path: Path) -> None:
    first, last, _ = render_shot("slow push-in", tmp_path)
    assert last.sum() / first.sum() > 1.3

    first, last, _ = render_shot("slow pull-out", tmp_path)
    assert first.sum() / last.sum() > 1.3


@pytest.mark.parametrize(("camera", "sign"), [("pan left", 1), ("whip pan right", -1)])
def test_a_pan_carries_the_subject_across_the_frame(camera: str, sign: int, tmp_path: Path) -> None:
    first, last, _ = render_shot(camera, tmp_path)
    (x0, y0), (x1, y1) = centre(first), centre(last)

    # panning left brings what is on the left into view: the subject slides right
    assert sign * (x1 - x0) > 0.15 * 720
    assert abs(y1 - y0) < 4 and 0.85 < last.sum() / first.sum() < 1.15


def test_a_crane_up_lowers_the_subject_in_the_frame(tmp_path: Path) -> None:
    first, last, _ = render_shot("crane up", tmp_path)
    (x0, y0), (x1, y1) = centre(first), centre(last)

    assert y1 - y0 > 0.1 * 720 and abs(x1 - x0) < 4


def test_an_orbit_keeps_the_subject_while_the_world_turns_behind_it(tmp_path: Path) -> None:
    first, last, frames = render_shot("orbit at product height", tmp_path)
    (x0, _), (x1, _) = centre(first), centre(last)
    sky = slice(60, 200)  # above the subject, below the label strip
    background_change = np.abs(frames[0][sky].astype(np.int16) - frames[-1][sky]).mean()

    assert abs(x1 - x0) < 0.1 * 720 and background_change > 3


def test_handheld_wobbles_a_little(tmp_path: Path) -> None:
    _, _, frames = render_shot("handheld follow", tmp_path)
    wobble = [np.abs(frames[i].astype(np.int16) - frames[i + 1])[60:500].mean() for i in range(0, 95, 8)]

    assert min(wobble) > 0.2


def test_a_locked_off_camera_stands_still_while_the_subject_moves(tmp_path: Path) -> None:
    first, last, frames = render_shot("locked-off wide", tmp_path)
    (x0, y0), (x1, y1) = centre(first), centre(last)
    sky = slice(60, 200)

    assert np.abs(frames[0][sky].astype(np.int16) - frames[-1][sky]).mean() < 1.0, "the world does not move"
    assert (
        abs(x1 - x0) > 0.1 * 720 and abs(y1 - y0) < 2 and last.sum() == pytest.approx(first.sum(), rel=0.05)
    )


@pytest.mark.parametrize("camera", ["locked-off wide", "slow push-in", "gentle pan across", "handheld close"])
def test_no_move_reads_as_a_frozen_clip_to_qc(camera: str, tmp_path: Path) -> None:
    brief = make_brief([("A steel bottle stands on the counter", camera)], seconds=4, aspect="1:1")
    clip = tmp_path / "clip.mp4"
    render_animatic(job_from_spec(make_spec("720x720", "1:1", 4, brief=brief), 24), clip)

    assert inspect_clip(clip, seconds=4.0, size=(720, 720)).findings == ()
