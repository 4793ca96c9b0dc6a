"""Post-processing decodes a clip once: QC measures the frames the watermark pass decodes,
finds what QC on its own finds, and sees the provider's pixels, not the mark."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from av.video.frame import PictureType
from PIL import Image

from adapters.media import postprocess, qc
from adapters.media.encoding import frame_planes, writable
from adapters.media.postprocess import MediaPostProcessor
from adapters.media.qc import FrameMeter, inspect_clip
from adapters.media.watermark import Watermark, burn_watermark
from tests.media.clips import Picture, bottle_ask, moving, with_black, with_flicker, with_frozen, write_clip

pytestmark = pytest.mark.timeout(120)

REQUEST, BRIEF, RENDER = bottle_ask(3)
FRAMES = 72  # 3 s at 24 fps


class Decodes:
    """Counts how often the source is opened for reading and how many frames reach QC."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, source: Path) -> None:
        self.opens = 0
        self.measured = 0
        real_open: Any = av.open
        real_add_plane = FrameMeter.add_plane

        def counting_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if Path(str(file)) == source and mode.startswith("r"):
                self.opens += 1
            return real_open(file, mode, *args, **kwargs)

        def counting_add_plane(meter: FrameMeter, *args: Any, **kwargs: Any) -> None:
            self.measured += 1
            real_add_plane(meter, *args, **kwargs)

        monkeypatch.setattr(av, "open", counting_open)
        monkeypatch.setattr(FrameMeter, "add_plane", counting_add_plane)


def no_second_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    def second_decode(*args: object, **kwargs: object) -> None:
        raise AssertionError("QC decoded the clip a second time")

    monkeypatch.setattr(postprocess, "inspect_clip", second_decode)


DEFECTS: dict[str, tuple[Picture, str]] = {
    "black segment": (with_black(moving(), 24, 48), qc.BLACK),
    "frozen hold": (with_frozen(moving(), 24, 54), qc.FROZEN),
    "white flashes": (with_flicker(moving()), qc.FLICKER),
}


@pytest.mark.parametrize("defect", DEFECTS)
def test_the_marked_pass_flags_what_qc_alone_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, defect: str
) -> None:
    picture, kind = DEFECTS[defect]
    clip = write_clip(tmp_path / "in.mp4", picture, seconds=3)
    alone = inspect_clip(clip, seconds=3, size=(320, 180))
    assert [f.kind for f in alone.findings] == [kind]
    no_second_decode(monkeypatch)
    decodes = Decodes(monkeypatch, clip)
    post = MediaPostProcessor(tmp_path / "clips", keep_original=True)  # the watermark is on by default

    result = post.process_now(RENDER, BRIEF, REQUEST, clip)

    assert result.findings == alone.messages
    assert result.hard_failure == alone.hard_failure
    assert (decodes.opens, decodes.measured) == (1, FRAMES)


def test_the_clip_is_opened_once_and_each_frame_measured_once_with_the_mark_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = write_clip(tmp_path / "in.mp4", moving(), seconds=3, audio=True)
    decodes = Decodes(monkeypatch, clip)

    written = burn_watermark(clip, tmp_path / "out.mp4", Watermark())

    assert (decodes.opens, decodes.measured) == (1, FRAMES)
    assert written.frames == written.qc.frames == FRAMES
    assert written.has_audio


def test_without_a_watermark_qc_decodes_the_clip_itself_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = write_clip(tmp_path / "in.mp4", with_frozen(moving(), 24, 54), seconds=3)
    original = clip.read_bytes()
    decodes = Decodes(monkeypatch, clip)
    post = MediaPostProcessor(tmp_path / "clips", watermark_enabled=False, keep_original=True)

    result = post.process_now(RENDER, BRIEF, REQUEST, clip)

    assert result.findings == inspect_clip(clip, seconds=3, size=(320, 180)).messages
    assert [f.split(" s ")[1] for f in result.findings] == ["frozen at 0:01"]
    assert (decodes.opens, decodes.measured) == (2, 2 * FRAMES)  # the pass, then inspect_clip above
    assert result.path.read_bytes() == original


def test_qc_measures_the_providers_pixels_not_the_mark(tmp_path: Path) -> None:
    # a still picture: every later frame is predicted from the first, so a mark drawn into
    # the decoder's reference picture instead of a copy would show in all of them
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (160, 90), (255, 255, 255, 255)).save(logo)
    clip = write_clip(tmp_path / "in.mp4", with_frozen(moving(), 0, FRAMES), seconds=3)
    mark = Watermark(text=None, logo=logo, position="top-left", opacity=1.0)

    written = burn_watermark(clip, tmp_path / "out.mp4", mark)

    alone = FrameMeter(24.0)
    with av.open(str(clip)) as container:
        for frame in container.decode(video=0):
            alone.add_frame(frame)
    assert written.qc.trace.mean == alone.trace.mean
    assert written.qc.trace.drift == alone.trace.drift
    with av.open(str(tmp_path / "out.mp4")) as container:
        marked = [f.to_ndarray(format="gray").astype(np.int16) for f in container.decode(video=0)]
    assert all(frame[8:16, 8:16].mean() > 200 for frame in marked)  # while the output carries the mark


def test_drawing_on_a_decoded_frame_leaves_the_pictures_decoded_after_it_alone(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "still.mp4", with_frozen(moving(), 0, FRAMES), seconds=3)
    corners = []
    with av.open(str(clip)) as container:
        video = container.streams.video[0]
        video.thread_type = "NONE"  # decoded in order: the next picture is predicted after the drawing
        for decoded in container.decode(video):
            corners.append(float(frame_planes(decoded)[0][:20, :20].mean()))
            frame = writable(decoded)
            frame_planes(frame)[0][:20, :20] = 255

    assert len(corners) == FRAMES and max(corners) - min(corners) < 1.0  # codec noise, not the drawing


def test_frame_types_of_the_source_do_not_carry_into_the_marked_clip(tmp_path: Path) -> None:
    # an all-intra source: copied frame types would make every output frame a keyframe
    clip = tmp_path / "intra.mp4"
    picture = moving()
    with av.open(str(clip), mode="w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23", "g": "1"}
        for i in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(picture(i), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))

    burn_watermark(clip, tmp_path / "out.mp4", Watermark())

    with av.open(str(tmp_path / "out.mp4")) as container:
        types = Counter(PictureType(f.pict_type).name for f in container.decode(video=0))
    assert types["I"] <= 2, types
