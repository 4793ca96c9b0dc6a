"""Real MP4s for fake providers to serve, and a decoder that checks a clip to its last frame."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def write_test_mp4(
    path: Path, seconds: float = 2.0, width: int = 320, height: int = 180, fps: int = 24
) -> Path:
    """Encode a small H.264 clip with a moving gradient (never frozen, never black)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = round(seconds * fps)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "30"}
        stream.codec_context.time_base = Fraction(1, fps)
        xs = np.linspace(0, 255, width, dtype=np.float32)[None, :]
        ys = np.linspace(0, 255, height, dtype=np.float32)[:, None]
        for i in range(frames):
            shift = (i * 7) % 256
            r = ((xs + shift) % 256).repeat(height, 0)
            g = ((ys + shift * 2) % 256).repeat(width, 1)
            b = np.full((height, width), (64 + i * 3) % 256, dtype=np.float32)
            image = np.stack([r, g, b], axis=-1).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def mp4_bytes(
    seconds: float = 2.0, width: int = 320, height: int = 180, fps: int = 24, *, workdir: Path
) -> bytes:
    return write_test_mp4(
        workdir / f"clip_{seconds}_{width}x{height}.mp4", seconds, width, height, fps
    ).read_bytes()


@dataclass(frozen=True)
class ClipFacts:
    width: int
    height: int
    frames: int
    fps: float
    seconds: float
    codec: str


def decode_to_end(path: Path) -> ClipFacts:
    """Decode every frame; raise if the file is not a playable video."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = 0
        last_time = 0.0
        width = height = 0
        for frame in container.decode(stream):
            frames += 1
            width, height = frame.width, frame.height
            if frame.time is not None:
                last_time = float(frame.time)
        rate = float(stream.average_rate or stream.guessed_rate or 24)
        codec = stream.codec_context.name
    if frames == 0:
        raise ValueError(f"{path} has no decodable video frames")
    return ClipFacts(width, height, frames, rate, last_time + 1 / rate, codec)


ASPECT_CLIP_SIZES = {"16:9": (192, 108), "9:16": (108, 192), "1:1": (128, 128)}


class ClipCache:
    """Small real MP4s for fakes, one per (seconds, aspect), encoded once in a thread.

    Kept small (192 px on the long side, 8 fps) so tests decode them in milliseconds,
    but as long as asked and of the asked shape, so a test can check both.
    """

    def __init__(self, prefix: str, fps: int = 8) -> None:
        import tempfile

        self.folder = Path(tempfile.mkdtemp(prefix=prefix))
        self.fps = fps
        self._clips: dict[tuple[float, str], bytes] = {}

    async def clip(self, seconds: float, aspect: str) -> bytes:
        import asyncio

        key = (seconds, aspect)
        if key not in self._clips:
            width, height = ASPECT_CLIP_SIZES.get(aspect, (192, 108))
            path = self.folder / f"clip_{seconds:g}s_{width}x{height}.mp4"
            await asyncio.to_thread(write_test_mp4, path, seconds, width, height, self.fps)
            self._clips[key] = path.read_bytes()
        return self._clips[key]

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)
