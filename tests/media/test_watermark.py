"""The visible watermark: burned into the corner in one pass, nothing else about the clip changes."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from adapters.media.watermark import Watermark, burn_watermark
from bot.errors import MediaError
from tests.fakes.media import decode_to_end
from tests.media.clips import moving, write_clip


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)]


def test_text_mark_changes_the_corner_and_keeps_size_timing_and_frame_count(
    tmp_path: Path,
) -> None:
    source = write_clip(tmp_path / "in.mp4", moving(), seconds=2)
    dest = tmp_path / "out.mp4"

    written = burn_watermark(source, dest, Watermark(position="bottom-right"))

    before, after = decode_to_end(source), decode_to_end(dest)
    assert written.frames == written.qc.frames == before.frames == after.frames == 48
    assert (after.width, after.height) == (320, 180)
    assert after.seconds == pytest.approx(before.seconds, abs=0.01)
    # pixels that moved far, not the few levels a re-encode alone moves them
    changed = np.abs(frames(dest)[10] - frames(source)[10]).sum(axis=-1) > 60
    assert changed[-30:, -130:].mean() > 0.1
    assert changed[:-30].mean() < 0.01 and changed[:, :-130].mean() < 0.01


def test_logo_mark_goes_in_the_chosen_corner_with_its_colour(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (64, 64), (255, 0, 0, 255)).save(logo)
    source = write_clip(tmp_path / "in.mp4", moving(), seconds=1)
    dest = tmp_path / "out.mp4"

    burn_watermark(source, dest, Watermark(text=None, logo=logo, position="top-left", opacity=1.0))

    out = frames(dest)[5]
    patch = out[8:20, 8:20]  # inside the logo, past the margin
    assert patch[..., 0].mean() > 200 and patch[..., 1].mean() < 60


def test_an_audio_track_is_carried_over(tmp_path: Path) -> None:
    source = write_clip(tmp_path / "in.mp4", moving(), seconds=1, audio=True)
    dest = tmp_path / "out.mp4"

    burn_watermark(source, dest, Watermark())

    with av.open(str(dest)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        assert container.streams.audio[0].codec_context.name == "aac"
        assert sum(1 for _ in container.decode(audio=0)) > 40


def test_a_logo_that_is_not_an_image_is_a_media_error_naming_the_file(tmp_path: Path) -> None:
    logo = tmp_path / "brand.png"
    logo.write_bytes(b"this is not a picture" * 10)
    source = write_clip(tmp_path / "in.mp4", moving(), seconds=1)

    with pytest.raises(MediaError, match=r"brand\.png is not a readable image"):
        burn_watermark(source, tmp_path / "out.mp4", Watermark(logo=logo))
    assert not (tmp_path / "out.mp4").exists()


def test_a_missing_logo_is_named(tmp_path: Path) -> None:
    source = write_clip(tmp_path / "in.mp4", moving(), seconds=1)
    with pytest.raises(MediaError, match=r"nope\.png does not exist"):
        burn_watermark(source, tmp_path / "out.mp4", Watermark(logo=tmp_path / "nope.png"))


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"position": "middle"}, "position 'middle'"),
        ({"opacity": 1.5}, "opacity"),
        ({"text": "", "logo": None}, "needs a text, a logo"),
    ],
)
def test_bad_watermark_settings_are_refused(options: dict[str, object], reason: str) -> None:
    with pytest.raises(MediaError, match=reason):
        Watermark(**options)  # type: ignore[arg-type]


def test_a_clip_that_is_not_a_video_is_a_media_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00garbage" * 500)
    with pytest.raises(MediaError, match="cannot be opened"):
        burn_watermark(junk, tmp_path / "out.mp4", Watermark())
