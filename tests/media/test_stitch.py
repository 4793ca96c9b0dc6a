"""Stitching shots into a cut: exact length, continuous sound, graded colours, crossfades, seams in QC."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import numpy as np
import pytest

from adapters.media import qc
from adapters.media.qc import Seam, inspect_clip
from adapters.media.stitch import ShotClip, ShotUnusable, StitchOptions, stitch
from adapters.media.watermark import Watermark
from bot.errors import MediaError
from tests.fakes.media import decode_to_end
from tests.media.clips import Picture, moving, write_clip


def later(picture: Picture, frames: int) -> Picture:
    """The same take, ``frames`` frames on: a shot that continues the previous one."""
    return lambda i: picture(i + frames)


def tinted(picture: Picture, gain: tuple[float, float, float], shift: tuple[float, float, float]) -> Picture:
    """A colour cast, as a chained provider job drifts."""
    scale, offset = np.asarray(gain, np.float32), np.asarray(shift, np.float32)
    return lambda i: np.clip(picture(i) * scale + offset, 0, 255).astype(np.uint8)


def solid(value: int) -> Picture:
    return lambda i: np.full((180, 320, 3), value, np.uint8)


def white_at_end(picture: Picture, frames: int) -> Picture:
    return lambda i: np.full_like(picture(i), 255) if i == frames - 1 else picture(i)


def rgb_means(path: Path) -> np.ndarray:
    """Mean R, G, B of every frame, decoded to the end."""
    with av.open(str(path)) as container:
        return np.asarray([f.to_ndarray(format="rgb24").mean(axis=(0, 1)) for f in container.decode(video=0)])


def decoded_sound(path: Path) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The audio stream decoded to the end (mono mix) and each frame's (pts, samples)."""
    chunks, frames = [], []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            frames.append((int(frame.pts or 0), frame.samples))
            chunks.append(frame.to_ndarray().mean(axis=0))
    return np.concatenate(chunks), frames


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0


def test_three_shots_stitch_to_the_exact_length_with_continuous_sound(tmp_path: Path) -> None:
    picture = moving()
    shots = [
        ShotClip(write_clip(tmp_path / "s1.mp4", picture, seconds=2, audio=True), 1, 2.0),
        # a 4:3 shot at 30 fps with no sound: letterboxed, re-timed, silent
        ShotClip(write_clip(tmp_path / "s2.mp4", moving(240, 180), seconds=3, fps=30, width=240), 2, 3.0),
        ShotClip(write_clip(tmp_path / "s3.mp4", picture, seconds=2.5, audio=True), 3, 2.0),  # trimmed
    ]

    cut = stitch(shots, tmp_path / "cut.mp4", StitchOptions(watermark=Watermark()))

    facts = decode_to_end(cut.path)
    assert (facts.width, facts.height, facts.fps) == (320, 180, 24.0)
    assert facts.frames == cut.frames == 7 * 24
    assert facts.seconds == pytest.approx(7.0, abs=1e-6) and cut.seconds == pytest.approx(7.0)
    assert [(s.index, s.start, s.end) for s in cut.shots] == [(1, 0.0, 2.0), (2, 2.0, 5.0), (3, 5.0, 7.0)]
    sound, frames = decoded_sound(cut.path)
    assert len(sound) / 48000 == pytest.approx(7.0, abs=0.05)
    assert all(a[0] + a[1] == b[0] for a, b in itertools.pairwise(frames))  # no gap, no overlap
    assert rms(sound[1000:95000]) > 0.05 and rms(sound[245000:335000]) > 0.05  # shots 1 and 3 keep their tone
    assert rms(sound[100000:235000]) < 0.002  # shot 2 had none: silence, not a gap
    assert cut.qc.findings == () and cut.shots[0].qc is not None and cut.shots[0].qc.findings == ()
    with av.open(str(cut.path)) as container:
        pictures = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert pictures[80][:, :36].max() < 30 and pictures[80][:, 44:276].mean() > 60  # 4:3 shot letterboxed
    assert pictures[20][:, :36].mean() > 60  # the 16:9 shots fill the frame


def test_a_shot_shorter_than_planned_is_held_and_reported(tmp_path: Path) -> None:
    shots = [
        ShotClip(write_clip(tmp_path / "a.mp4", moving(), seconds=2), 1, 2.0),
        ShotClip(write_clip(tmp_path / "b.mp4", moving(), seconds=1.5), 2, 2.0),
    ]

    cut = stitch(shots, tmp_path / "cut.mp4", StitchOptions(colour_match=False))

    assert decode_to_end(cut.path).frames == 96
    second = cut.shots[1]
    assert second.held_frames == 12
    assert second.qc is not None and second.qc.messages == ("lasts 1.50 s, 2 s were asked for",)
    assert cut.path.exists() and not any(f.kind == qc.AUDIO for f in cut.qc.findings)


def test_colour_drift_between_chained_shots_is_graded_back_to_the_first_shot(tmp_path: Path) -> None:
    picture = moving()
    drifted = tinted(later(picture, 48), (0.85, 0.95, 1.15), (-12.0, 4.0, 18.0))
    shots = [
        ShotClip(write_clip(tmp_path / "s1.mp4", picture, seconds=2), 1, 2.0),
        ShotClip(write_clip(tmp_path / "s2.mp4", drifted, seconds=2), 2, 2.0, continues=True),
    ]
    before = [rgb_means(s.path).mean(axis=0) for s in shots]

    cut = stitch(shots, tmp_path / "cut.mp4")

    after = rgb_means(cut.path)
    first, second = after[:48].mean(axis=0), after[48:].mean(axis=0)
    assert np.abs(before[1] - before[0]).max() > 15  # the drift is real
    assert np.abs(second - first).max() < 5  # and graded away
    assert cut.shots[1].colour_shifts != (0.0, 0.0, 0.0)


def test_a_crossfade_overlaps_the_shots_for_its_length(tmp_path: Path) -> None:
    shots = [
        ShotClip(write_clip(tmp_path / "dark.mp4", solid(40), seconds=2, audio=True), 1, 2.0),
        ShotClip(write_clip(tmp_path / "light.mp4", solid(200), seconds=2, audio=True), 2, 2.0),
    ]

    cut = stitch(shots, tmp_path / "cut.mp4", StitchOptions(crossfade=0.5, colour_match=False))

    means = rgb_means(cut.path).mean(axis=1)
    assert len(means) == cut.frames == 96 - 12
    between = np.flatnonzero((means > 50) & (means < 190))
    assert len(between) == 12 and between[0] == 36  # half a second, where shot 2 comes in
    assert np.all(np.diff(means[between]) > 0)  # a steady blend, dark to light
    assert cut.shots[1].start == pytest.approx(1.5) and cut.seconds == pytest.approx(3.5)
    sound, _ = decoded_sound(cut.path)
    assert len(sound) / 48000 == pytest.approx(3.5, abs=0.05)


def test_a_white_flash_at_a_seam_is_flagged_at_its_time(tmp_path: Path) -> None:
    picture = moving()
    shots = [
        ShotClip(write_clip(tmp_path / "a.mp4", white_at_end(picture, 48), seconds=2), 1, 2.0),
        ShotClip(write_clip(tmp_path / "b.mp4", later(picture, 48), seconds=2), 2, 2.0),
        ShotClip(write_clip(tmp_path / "c.mp4", later(picture, 96), seconds=2), 3, 2.0),
    ]

    cut = stitch(shots, tmp_path / "cut.mp4")

    [flash] = cut.qc.findings
    assert flash.kind == qc.SEAM_FLASH
    assert flash.start == pytest.approx(47 / 24, abs=1e-6)
    assert flash.message == "a flash at the cut to shot 2 at 0:01"


def test_qc_of_a_synthetic_cut_finds_the_flash_and_the_jump_at_their_seams(tmp_path: Path) -> None:
    picture = moving()

    def cut_picture(i: int) -> np.ndarray:
        if i == 48:
            return np.full((180, 320, 3), 255, np.uint8)  # a white frame where shot 2 begins
        return picture(i + 60) if i >= 96 else picture(i)  # shot 3 jumps ahead in the take

    clip = write_clip(tmp_path / "cut.mp4", cut_picture, seconds=6)
    seams = [Seam(2.0, 2), Seam(4.0, 3, continuous=True), Seam(5.0, 4, continuous=True)]

    report = inspect_clip(clip, seams=seams)

    assert [(f.kind, round(f.start, 3)) for f in report.findings] == [
        (qc.SEAM_FLASH, 2.0),
        (qc.SEAM_JUMP, 4.0),
    ]
    assert report.findings[1].message == "a visible jump at the cut to shot 3 at 0:04"


def test_a_shot_that_cannot_be_decoded_is_named(tmp_path: Path) -> None:
    good = write_clip(tmp_path / "a.mp4", moving(), seconds=2)
    whole = write_clip(tmp_path / "whole.mp4", moving(), seconds=2)
    broken = tmp_path / "b.mp4"
    broken.write_bytes(whole.read_bytes()[:2000])

    with pytest.raises(ShotUnusable, match="shot 2") as caught:
        stitch([ShotClip(good, 1, 2.0), ShotClip(broken, 2, 2.0)], tmp_path / "cut.mp4")

    assert caught.value.index == 2
    assert not (tmp_path / "cut.mp4").exists()
    with pytest.raises(MediaError, match="crossfade"):
        stitch(
            [ShotClip(good, 1, 2.0), ShotClip(good, 2, 0.5)], tmp_path / "x.mp4", StitchOptions(crossfade=0.5)
        )
