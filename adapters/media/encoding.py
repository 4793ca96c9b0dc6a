"""The one H.264 encoder set-up every pass shares, and the decoded picture as YUV planes.

Every re-encode in ``adapters/media`` (watermark, stitching, the benchmark's floor)
uses :func:`add_h264`, so a clip's quality does not depend on which pass made it and
a benchmark compares like with like.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av
import numpy as np
from av.video.frame import PictureType

PRESET, CRF = "veryfast", "19"


def add_h264(
    out: av.container.OutputContainer, width: int, height: int, rate: Fraction | int, time_base: Fraction
) -> av.VideoStream:
    """An H.264 yuv420p stream at ``rate`` whose frames carry pts in ``time_base``."""
    stream = out.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = {"preset": PRESET, "crf": CRF}
    stream.codec_context.time_base = time_base
    stream.codec_context.thread_type = "FRAME"
    return stream


def yuv_planes(frame: av.VideoFrame) -> np.ndarray:
    """The frame as one limited-range yuv420p array (Y rows, then U, then V), a fresh copy."""
    source = frame if frame.format.name == "yuv420p" else frame.reformat(format="yuv420p")
    planes: np.ndarray = source.to_ndarray()
    return planes


def as_yuv420p(frame: av.VideoFrame) -> av.VideoFrame:
    """The frame itself when it is yuv420p already, else a converted copy."""
    return frame if frame.format.name == "yuv420p" else frame.reformat(format="yuv420p")


def frame_planes(frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of a yuv420p (or yuvj420p) frame's own Y, U and V planes: no copy is made.

    Writing to them writes to the frame, so a decoded frame must be made writable first
    (:func:`writable`): the decoder may still hold its picture as a reference.
    """
    luma, u, v = frame.planes[:3]
    width, height = frame.width, frame.height
    return _view(luma, width, height), _view(u, width // 2, height // 2), _view(v, width // 2, height // 2)


def _view(plane: av.video.plane.VideoPlane, width: int, height: int) -> np.ndarray:
    rows: np.ndarray = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
    return rows[:height, :width]


def writable(frame: av.VideoFrame) -> av.VideoFrame:
    """The decoded frame, ready to be drawn on and encoded again.

    Its picture is copied only if the decoder still references it; its frame type is
    reset, so x264 makes its own decisions instead of copying the source's structure.
    """
    frame.make_writable()
    frame.pict_type = PictureType.NONE
    return frame


def split_planes(planes: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of a yuv420p array (writing to them writes to ``planes``)."""
    quarter = (height // 2) * (width // 2)
    chroma = planes[height:].reshape(-1)
    u = chroma[:quarter].reshape(height // 2, width // 2)
    v = chroma[quarter:].reshape(height // 2, width // 2)
    return planes[:height], u, v


def planes_frame(planes: np.ndarray, pts: int, time_base: Fraction) -> av.VideoFrame:
    """A new frame for the encoder: no frame type or flags of the decoded source carry over,
    so x264 makes its own decisions instead of copying the source's frame structure."""
    frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
    frame.pts, frame.time_base = pts, time_base
    return frame


class Demux:
    """Packets of ``streams`` in file order, the first (video) stream's already decoded.

    Iterating yields decoded video frames and the other streams' raw packets. A file that
    stops decoding part-way ends the iteration early and leaves FFmpeg's reason in
    :attr:`stopped`, so a pass can still judge and report what it did decode.
    """

    def __init__(self, container: av.container.InputContainer, streams: list[av.stream.Stream]) -> None:
        self._container, self._streams = container, streams
        self.stopped: str | None = None

    def __iter__(self) -> Iterator[av.Packet[Any] | av.VideoFrame]:
        video = self._streams[0]
        packets = self._container.demux(self._streams)
        while True:
            try:
                packet = next(packets)
                if packet.stream is not video:
                    yield packet
                    continue
                frames = packet.decode()
            except StopIteration:
                return
            except (av.FFmpegError, OSError) as exc:
                self.stopped = reason_of(exc)
                return
            for frame in frames:
                assert isinstance(frame, av.VideoFrame)
                yield frame


def reason_of(exc: BaseException) -> str:
    """FFmpeg's own words ("Invalid data found when processing input"), without errno noise."""
    text = getattr(exc, "strerror", None) or str(exc).strip()
    return str(text) or type(exc).__name__
