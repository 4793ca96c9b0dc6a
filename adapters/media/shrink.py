"""Re-encode a clip to fit an upload limit, when that keeps it watchable.

Chat platforms cap attachments (Discord: 10 MiB for bots unless the server is
boosted; Slack workspaces set their own). :func:`fit_to_size` spends the byte
budget on the largest picture that still gets enough bits: it walks down a
ladder of sizes (never up) and picks the first whose bitrate stays above
``MIN_BITS_PER_PIXEL`` — about what H.264 needs before blocks and smearing
take over. When even ``MIN_SHORT_SIDE`` pixels would be starved it returns
``None`` and the caller links the original instead. Nothing here knows about
any chat platform.

The encode is blocking CPU work; :func:`fit_to_size` runs it in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

log = logging.getLogger(__name__)

# Short sides to try, largest first; the source's own size is tried before them.
LADDER = (1080, 720, 540, 480, 360, 240)
MIN_SHORT_SIDE = 240
MIN_BITS_PER_PIXEL = 0.05  # bits per pixel per frame: H.264 at "fine on a phone"
MAX_FPS = 30
AUDIO_KBPS = 64
SAFETY = 0.92  # x264's average bitrate wanders; aim under the limit
MUX_OVERHEAD_BYTES = 16 * 1024
ATTEMPTS = 3


@dataclass(frozen=True)
class ClipInfo:
    seconds: float
    width: int
    height: int
    fps: float
    has_audio: bool


@dataclass(frozen=True)
class FitPlan:
    """One encode: the picture size and frame rate, and the bitrates that fill the budget."""

    width: int
    height: int
    fps: int
    video_kbps: int
    audio_kbps: int


@dataclass(frozen=True)
class Fitted:
    path: Path
    size: int
    plan: FitPlan


def probe(path: Path) -> ClipInfo:
    """Duration, picture size, frame rate and whether there is sound."""
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path} has no video stream")
        video = container.streams.video[0]
        fps = float(video.average_rate or video.guessed_rate or 24)
        if container.duration:
            seconds = container.duration / av.time_base
        elif video.duration and video.time_base:
            seconds = float(video.duration * video.time_base)
        else:
            seconds = (video.frames or 1) / fps
        return ClipInfo(seconds, video.width, video.height, fps, bool(container.streams.audio))


def plan_fit(info: ClipInfo, limit_bytes: int, *, safety: float = SAFETY) -> FitPlan | None:
    """The largest watchable encode of ``info`` in ``limit_bytes``, or ``None`` if there is none."""
    seconds = max(info.seconds, 0.1)
    budget_kbps = (limit_bytes * safety - MUX_OVERHEAD_BYTES) * 8 / seconds / 1000
    audio_kbps = AUDIO_KBPS if info.has_audio else 0
    video_kbps = budget_kbps - audio_kbps
    fps = max(1, round(min(info.fps, MAX_FPS)))
    short = min(info.width, info.height)
    sides = [short, *(side for side in LADDER if side < short)]
    for side in sides:
        if side < MIN_SHORT_SIDE and side != short:
            break
        width, height = _scaled(info.width, info.height, side)
        needed_kbps = MIN_BITS_PER_PIXEL * width * height * fps / 1000
        if video_kbps >= needed_kbps:
            return FitPlan(width, height, fps, int(video_kbps), audio_kbps)
    return None


def _scaled(width: int, height: int, short_side: int) -> tuple[int, int]:
    scale = short_side / min(width, height)
    # H.264 in yuv420p wants even dimensions.
    return max(2, 2 * round(width * scale / 2)), max(2, 2 * round(height * scale / 2))


async def fit_to_size(src: Path, limit_bytes: int, dest: Path | None = None) -> Fitted | None:
    """Write a copy of ``src`` no larger than ``limit_bytes`` to ``dest``; ``None`` if unwatchable."""
    return await asyncio.to_thread(fit_to_size_sync, src, limit_bytes, dest)


def fit_to_size_sync(src: Path, limit_bytes: int, dest: Path | None = None) -> Fitted | None:
    dest = dest or src.with_name(f"{src.stem}.fit-{limit_bytes}.mp4")
    if dest.exists() and 0 < dest.stat().st_size <= limit_bytes:
        return _already_fitted(dest)
    info = probe(src)
    safety = SAFETY
    for _ in range(ATTEMPTS):
        plan = plan_fit(info, limit_bytes, safety=safety)
        if plan is None:
            return None
        scratch = dest.with_name(f".{dest.stem}.{uuid.uuid4().hex[:8]}.mp4")
        try:
            encode(src, scratch, plan)
            size = scratch.stat().st_size
            if size <= limit_bytes:
                scratch.replace(dest)
                return Fitted(dest, size, plan)
            log.info(
                "re-encode of %s came out at %d bytes over a %d limit; trying lower", src, size, limit_bytes
            )
            # Aim lower by the overshoot, and a bit more.
            safety *= limit_bytes / size * 0.95
        finally:
            with contextlib.suppress(FileNotFoundError):
                scratch.unlink()
    return None


def _already_fitted(path: Path) -> Fitted:
    """A copy made for the same limit before (a repeated delivery): reuse it."""
    info = probe(path)
    size = path.stat().st_size
    kbps = int(size * 8 / max(info.seconds, 0.1) / 1000)
    return Fitted(path, size, FitPlan(info.width, info.height, round(info.fps), kbps, 0))


def encode(src: Path, dest: Path, plan: FitPlan) -> None:
    """Decode ``src`` and encode it to ``dest`` as H.264 (+ AAC) at ``plan``'s size and bitrates."""
    with (
        av.open(str(src)) as source,
        av.open(str(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        video_in = source.streams.video[0]
        video_in.thread_type = "AUTO"
        audio_in = source.streams.audio[0] if plan.audio_kbps and source.streams.audio else None

        video = out.add_stream("libx264", rate=plan.fps)
        video.width, video.height, video.pix_fmt = plan.width, plan.height, "yuv420p"
        video.bit_rate = plan.video_kbps * 1000
        video.options = {
            "preset": "veryfast",
            "maxrate": f"{plan.video_kbps}k",
            "bufsize": f"{plan.video_kbps * 2}k",
        }
        video.codec_context.time_base = Fraction(1, plan.fps)
        audio = None
        if audio_in is not None:
            audio = out.add_stream("aac", rate=audio_in.rate or 48000)
            audio.bit_rate = plan.audio_kbps * 1000

        streams = [video_in] + ([audio_in] if audio_in is not None else [])
        last_index = -1
        count = 0
        for packet in source.demux(*streams):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    # Constant frame rate at plan.fps: drop frames that land on a taken slot.
                    index = round(frame.time * plan.fps) if frame.time is not None else count
                    count += 1
                    if index <= last_index:
                        continue
                    last_index = index
                    scaled = frame.reformat(width=plan.width, height=plan.height, format="yuv420p")
                    scaled.pts = index
                    scaled.time_base = Fraction(1, plan.fps)
                    for out_packet in video.encode(scaled):
                        out.mux(out_packet)
                elif audio is not None and isinstance(frame, av.AudioFrame):
                    frame.pts = None
                    for out_packet in audio.encode(frame):
                        out.mux(out_packet)
        for out_packet in video.encode():
            out.mux(out_packet)
        if audio is not None:
            for out_packet in audio.encode():
                out.mux(out_packet)


def human_size(size: int) -> str:
    """``10485760`` → ``"10 MB"``, ``1572864`` → ``"1.5 MB"``, ``81920`` → ``"80 KB"`` (binary units)."""
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    value = size / (1024 * 1024)
    return f"{value:.0f} MB" if math.isclose(value, round(value)) else f"{value:.1f} MB"
