"""Small synthetic clips with known defects, made with PyAV so QC has ground truth."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from bot.domain import Brief, Render, ReplyTarget, RequestOptions, Shot, VideoRequest

Picture = Callable[[int], np.ndarray]  # frame index -> RGB image


def moving(width: int = 320, height: int = 180) -> Picture:
    """A gradient that moves every frame: never black, never frozen, no flicker."""
    xs = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    ys = np.linspace(0, 255, height, dtype=np.float32)[:, None]

    def picture(i: int) -> np.ndarray:
        r = ((xs + i * 7) % 256).repeat(height, 0)
        g = ((ys + i * 5) % 256).repeat(width, 1)
        b = np.full((height, width), 120, np.float32)
        return np.stack([r, g, b], axis=-1).astype(np.uint8)

    return picture


def with_frozen(picture: Picture, start: int, stop: int) -> Picture:
    """Frames ``start``..``stop - 1`` repeat frame ``start``."""
    return lambda i: picture(start if start <= i < stop else i)


def with_black(picture: Picture, start: int, stop: int) -> Picture:
    return lambda i: np.zeros_like(picture(i)) if start <= i < stop else picture(i)


def with_flicker(picture: Picture, every: int = 6) -> Picture:
    """Every ``every`` frames one frame flashes white, then the picture comes back."""
    return lambda i: np.full_like(picture(i), 250) if i % every == every - 1 else picture(i)


def write_clip(
    path: Path,
    picture: Picture,
    *,
    seconds: float = 3.0,
    fps: int = 24,
    width: int = 320,
    height: int = 180,
    audio: bool = False,
) -> Path:
    """Encode ``picture`` as H.264 (and a 440 Hz AAC tone when ``audio``) into an MP4."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = round(seconds * fps)
    with av.open(str(path), mode="w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "23"}
        video.codec_context.time_base = Fraction(1, fps)
        sound = out.add_stream("aac", rate=48000) if audio else None
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(picture(i), format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            samples = int(seconds * 48000)
            tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / 48000)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = tone[None, start : start + 1024]
                block = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                block.sample_rate, block.pts = 48000, start
                out.mux(sound.encode(block))
            out.mux(sound.encode(None))
    return path


def bottle_ask(seconds: int) -> tuple[VideoRequest, Brief, Render]:
    """The request, brief and render the post-processing tests work on: a ``seconds`` bottle clip."""
    request = VideoRequest(
        id="req_1",
        target=ReplyTarget("slack", "T1", "C1", "1700000000.0001"),
        requester="U123",
        raw_text="a steel water bottle",
        options=RequestOptions(seconds=seconds),
    )
    brief = Brief(
        request_id="req_1",
        version=1,
        prompt="A steel water bottle.",
        subject="a steel water bottle",
        setting="kitchen",
        style="clean",
        lighting="daylight",
        camera="dolly in",
        negative_prompt="",
        seconds=seconds,
        aspect="16:9",
        shots=(Shot(1, float(seconds), "The bottle on a counter", "dolly in"),),
    )
    render = Render(
        id="rnd_1",
        request_id="req_1",
        brief_id=brief.id,
        brief_version=1,
        provider="animatic",
        model="animatic-v1",
        seconds=seconds,
        size="320x180",
    )
    return request, brief, render
