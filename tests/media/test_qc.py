"""Automatic QC flags what a reviewer should not have to find, and passes a clean clip."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.media import qc
from adapters.media.qc import inspect_clip
from tests.media.clips import moving, with_black, with_flicker, with_frozen, write_clip


def test_a_clean_clip_passes(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clean.mp4", moving(), seconds=3)

    report = inspect_clip(clip, seconds=3, size=(320, 180))

    assert report.findings == ()
    assert not report.hard_failure
    assert (report.frames, report.width, report.height) == (72, 320, 180)
    assert report.seconds == pytest.approx(3.0, abs=0.01)


def test_a_frozen_stretch_is_flagged_with_its_length_and_position(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "frozen.mp4", with_frozen(moving(), 24, 54), seconds=3)

    report = inspect_clip(clip, seconds=3, size=(320, 180))

    [finding] = report.findings
    assert finding.kind == qc.FROZEN and not finding.hard
    assert finding.start == pytest.approx(1.0, abs=0.05)
    assert finding.seconds == pytest.approx(30 / 24, abs=0.05)
    assert re.fullmatch(r"1\.[23] s frozen at 0:01", finding.message)


def test_black_frames_are_flagged_and_not_also_called_frozen(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "black.mp4", with_black(moving(), 12, 36), seconds=3)

    report = inspect_clip(clip, seconds=3)

    [finding] = report.findings
    assert finding.kind == qc.BLACK and not finding.hard
    assert finding.start == pytest.approx(0.5, abs=0.05)
    assert finding.seconds == pytest.approx(1.0, abs=0.05)
    assert finding.message == "1.0 s black at 0:00"


def test_a_clip_that_is_mostly_black_is_a_hard_failure(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "dark.mp4", with_black(moving(), 6, 72), seconds=3)

    assert inspect_clip(clip).hard_failure


def test_short_black_or_still_moments_are_not_findings(tmp_path: Path) -> None:
    picture = with_frozen(with_black(moving(), 10, 18), 40, 56)  # 0.33 s black, 0.67 s still
    clip = write_clip(tmp_path / "brief.mp4", picture, seconds=3)

    assert inspect_clip(clip).findings == ()


def test_strong_flicker_is_flagged_but_a_single_cut_is_not(tmp_path: Path) -> None:
    flicker = write_clip(tmp_path / "flicker.mp4", with_flicker(moving()), seconds=3)
    cut = write_clip(tmp_path / "cut.mp4", with_black(moving(), 48, 72), seconds=3)

    [finding] = inspect_clip(flicker).findings
    assert finding.kind == qc.FLICKER and finding.message.startswith("strong flicker")
    assert [f.kind for f in inspect_clip(cut).findings] == [qc.BLACK]


def test_length_size_and_audio_other_than_asked_are_findings(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", moving(), seconds=2)

    report = inspect_clip(clip, seconds=3, size=(1280, 720), audio=True)

    assert [f.kind for f in report.findings] == [qc.DURATION, qc.SIZE, qc.AUDIO]
    assert report.messages == (
        "lasts 2.00 s, 3 s were asked for",
        "is 320x180, 1280x720 was asked for",
        "has no audio track, but audio was asked for",
    )
    assert not report.hard_failure


def test_a_clip_with_the_audio_asked_for_passes(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", moving(), seconds=1, audio=True)

    report = inspect_clip(clip, seconds=1, audio=True)

    assert report.has_audio and report.findings == ()


def test_a_clip_far_shorter_than_asked_is_a_hard_failure(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", moving(), seconds=1)

    report = inspect_clip(clip, seconds=4)

    assert report.hard_failure and report.findings[0].kind == qc.DURATION


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100])
def test_an_undecodable_file_is_a_hard_failure_with_the_reason(tmp_path: Path, content: bytes) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(content)

    report = inspect_clip(junk, seconds=3)

    assert report.hard_failure
    assert report.undecodable is not None
    assert report.undecodable.message.startswith("the clip cannot be opened: ")


def test_a_truncated_download_is_a_hard_failure(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", moving(), seconds=3)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])

    assert inspect_clip(cut, seconds=3).hard_failure


def test_positions_read_as_minutes_and_seconds() -> None:
    assert qc.clock(67.9) == "1:07"
    assert qc.clock(0.4) == "0:00"
