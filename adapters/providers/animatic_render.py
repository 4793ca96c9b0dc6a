"""Render an animatic: a storyboard MP4 of a brief's shots, encoded with PyAV.

Split from :mod:`adapters.providers.animatic` (the provider and its job files): this module
turns an :class:`AnimaticJob` into frames and an H.264 file.

Why it is fast enough to be a draft tier: per shot, the world, the subject and the cards are
drawn once (Pillow) and converted to YUV planes once; per frame, only the camera window is
copied (or scaled, for a zoom), the subject blended where it moves on its own, and the cards and timecode
copied on top. A drawing thread makes the next frames while the encoder works on earlier ones,
with a small bounded queue between them so memory stays flat.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageOps

from adapters.providers.animatic_cards import Card, TimecodeBar, caption, label_strip, title_card
from adapters.providers.animatic_plan import (
    AnimaticJob,
    CameraMove,
    Move,
    ShotCard,
    ShotTiming,
    plan_shots,
    read_camera,
)
from adapters.providers.animatic_planes import FrameBuffer, Planes, Sprite
from adapters.providers.animatic_scene import draw_subject, draw_world, read_scene, subject_middle

__all__ = ["AnimaticJob", "ShotCard", "render_animatic"]

QUEUE_FRAMES = 8  # frames drawn ahead of the encoder: enough to ride out a shot's set-up
FADE_SECONDS = 0.75  # how long a given first frame takes to dissolve into the storyboard
# ultrafast: on flat storyboard shapes it costs half the CPU of superfast and a third of
# veryfast's, at a higher PSNR (61.7 dB at crf 21, against 53.5 and 50.5) for 0.6 MB per 8 s
# of 720p; the watermark pass re-encodes the clip by default, so its size here hardly matters.
ENCODER = {"preset": "ultrafast", "crf": "21"}
_WAIT = 120.0  # longest the encoder waits for one frame before calling the drawing thread stuck


@dataclass
class _ShotArt:
    """Everything a shot's frames are made of, drawn once."""

    timing: ShotTiming
    move: CameraMove
    world: Planes
    world_images: tuple[Image.Image, ...]
    sprite: Sprite | None
    sprite_at: tuple[int, int]  # sprite top-left relative to the frame's centre
    cards: list[Card]
    title: Card | None


def render_animatic(
    job: AnimaticJob,
    dest: Path,
    progress: Callable[[int, int], None] | None = None,
    first_frame: Path | None = None,
) -> None:
    """Encode the animatic of ``job`` to ``dest``: H.264, yuv420p, faststart, exact length.

    ``first_frame`` is an image the clip starts from: it fills the first frame and dissolves
    into the storyboard over :data:`FADE_SECONDS`.
    """
    total = job.total_frames
    dest.parent.mkdir(parents=True, exist_ok=True)
    frames: queue.Queue[av.VideoFrame | BaseException] = queue.Queue(QUEUE_FRAMES)
    stop = threading.Event()
    drawer = threading.Thread(
        target=_draw_into, args=(job, first_frame, frames, stop), name="animatic-draw", daemon=True
    )
    drawer.start()
    done = 0
    try:
        with open_output(job, dest) as (out, stream):
            for index in range(total + 1):
                frame = _next_frame(frames) if index < total else None
                if isinstance(frame, BaseException):
                    raise frame
                if frame is not None:
                    frame.pts = index
                for packet in stream.encode(frame):
                    out.mux(packet)
                    done += 1
                    if progress:
                        progress(done, total)
    finally:
        stop.set()
        while drawer.is_alive():  # unblock a drawer waiting on a full queue, then let it go
            try:
                frames.get_nowait()
            except queue.Empty:
                drawer.join(0.05)


def _next_frame(frames: queue.Queue[av.VideoFrame | BaseException]) -> av.VideoFrame | BaseException:
    try:
        return frames.get(timeout=_WAIT)
    except queue.Empty:
        raise RuntimeError(f"the animatic's drawing thread gave no frame in {_WAIT:.0f} s") from None


@contextlib.contextmanager
def open_output(job: AnimaticJob, dest: Path) -> Iterator[tuple[Any, Any]]:
    """The MP4 container and H.264 stream every animatic is written with (the bench's floor too)."""
    with av.open(str(dest), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        out.metadata["title"] = job.title[:200]
        out.metadata["comment"] = "clipdesk storyboard preview"
        stream = out.add_stream("libx264", rate=job.fps)
        stream.width, stream.height, stream.pix_fmt = job.width, job.height, "yuv420p"
        stream.options = dict(ENCODER)
        stream.codec_context.time_base = Fraction(1, job.fps)
        stream.codec_context.gop_size = job.fps * 2
        stream.codec_context.thread_type = "FRAME"  # x264 on every core while Python draws
        stream.codec_context.thread_count = 0
        yield out, stream


def _draw_into(
    job: AnimaticJob,
    first_frame: Path | None,
    frames: queue.Queue[av.VideoFrame | BaseException],
    stop: threading.Event,
) -> None:
    def put(item: av.VideoFrame | BaseException) -> bool:
        while not stop.is_set():
            try:
                frames.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        for array in draw_frames(job, first_frame):
            if not put(av.VideoFrame.from_ndarray(array, format="yuv420p")):
                return
    except BaseException as exc:  # the encoder side raises it, with this traceback
        put(exc)


def draw_frames(job: AnimaticJob, first_frame: Path | None = None) -> Iterator[np.ndarray]:
    """Every frame of the clip as a yuv420p array (the same buffer, refilled: copy to keep one)."""
    timings = plan_shots(job)
    buffer = FrameBuffer(job.width, job.height)
    bar = TimecodeBar(job, [t.start for t in timings[1:]])
    opening = _first_frame(first_frame, job) if first_frame is not None else None
    fade = max(1, round(FADE_SECONDS * job.fps))
    index = 0
    for timing in timings:
        art = _shot_art(job, timing, bar.top)
        for k in range(timing.frames):
            _place_world(buffer, art, k, job)
            if opening is not None and index < fade:
                buffer.fade_from(opening, 1 - index / fade)
            for card in art.cards:
                buffer.paste(card.patch)
            if art.title is not None and k < timing.title_frames:
                buffer.paste(art.title.patch)
            bar.draw(buffer, index)
            yield buffer.data
            index += 1


def shot_cards(job: AnimaticJob, timing: ShotTiming, bottom: int) -> tuple[list[Card], Card | None]:
    """The cards over one shot (label strip and its text) and the title card, if it shows."""
    cards = [label_strip(job, timing)]
    text = caption(job, timing.shot.description, bottom)
    if text is not None:
        cards.append(text)
    return cards, (title_card(job) if timing.title_frames else None)


def _shot_art(job: AnimaticJob, timing: ShotTiming, bottom: int) -> _ShotArt:
    shot = timing.shot
    move = read_camera(shot.camera, shot.description)
    scene = read_scene(
        job.subject or job.title,
        job.setting,
        shot.description,
        job.lighting,
        job.style,
        move.framing,
        job.seed % 2**32,
    )
    frame = (job.width, job.height)
    # the subject is drawn apart when it moves against the world: an orbit's parallax, or the
    # action inside a locked-off frame (a still frame would read, and fail QC, as a frozen clip)
    parallax = move.kind in (Move.ORBIT, Move.LOCKED)
    world = draw_world(scene, frame, with_subject=not parallax)
    planes = Planes.from_image(world)
    sprite, sprite_at = None, (0, 0)
    if parallax:
        image, sprite_at = draw_subject(scene, frame)
        sprite = Sprite.from_image(image)
    cards, title = shot_cards(job, timing, bottom)
    images = planes.images() if move.kind in (Move.PUSH_IN, Move.PULL_OUT) else ()
    return _ShotArt(timing, move, planes, images, sprite, sprite_at, cards, title)


def _ease(t: float) -> float:
    return t * t * (3 - 2 * t)


def _place_world(buffer: FrameBuffer, art: _ShotArt, k: int, job: AnimaticJob) -> None:
    """Put the camera's view of the shot's world into ``buffer`` for frame ``k`` of the shot."""
    move, (ww, wh) = art.move, art.world.size
    fw, fh = buffer.width, buffer.height
    t = _ease(k / max(1, art.timing.frames - 1))
    if move.strength > 1.2:
        t = _ease(t)  # fast moves: a snappier start and stop
    slack_x, slack_y = (ww - fw) // 2 - 2, (wh - fh) // 2 - 2
    cx, cy = ww / 2, wh / 2
    if move.kind in (Move.PUSH_IN, Move.PULL_OUT):
        tight = max(0.55, 1 - 0.3 * move.strength)
        wide = min(1.3, (ww - 4) / fw)
        start, end = (1.0, tight) if move.kind is Move.PUSH_IN else (tight, wide)
        scale = start + (end - start) * t
        focus = cy + fh * subject_middle(move.framing)  # zoom on the subject
        cy_now = min(max(focus, fh * scale / 2), wh - fh * scale / 2)
        w, h = fw * scale, fh * scale
        buffer.show_scaled(art.world_images, (cx - w / 2, cy_now - h / 2, cx + w / 2, cy_now + h / 2))
        return
    dx = dy = 0.0
    if move.kind in (Move.PAN, Move.ORBIT):
        dx = move.direction * slack_x * min(1.0, 0.45 + 0.35 * move.strength) * (2 * t - 1)
    elif move.kind is Move.TILT:
        dy = -move.direction * slack_y * min(1.0, 0.45 + 0.35 * move.strength) * (2 * t - 1)
    elif move.kind is Move.HANDHELD:
        dx, dy = _shake(k / job.fps, job.seed, fw * 0.012 * move.strength)
        dx += move.direction * slack_x * 0.25 * (2 * t - 1)  # following the action a little
    left = int(min(max(cx - fw / 2 + dx, 0), ww - fw))
    top = int(min(max(cy - fh / 2 + dy, 0), wh - fh))
    buffer.show(art.world, left, top)
    if art.sprite is not None:
        # orbit: the subject stays near the centre while the world slides behind it;
        # locked-off: the camera stays put and the subject crosses part of the frame
        drift = -dx * 0.2 if move.kind is Move.ORBIT else move.direction * _pace(k / job.fps, fw * 0.12)
        buffer.blend(art.sprite, (round(fw / 2 + art.sprite_at[0] + drift), fh // 2 + art.sprite_at[1]))


def _pace(seconds: float, reach: float) -> float:
    """Steady side-to-side travel within ±``reach`` at ``reach``/2.4 per second, for any shot length.

    Steady, not eased: an eased start would sit still for a second, which QC rightly calls frozen.
    """
    travel = (seconds * reach / 2.4) % (4 * reach)
    return travel - reach if travel < 2 * reach else 3 * reach - travel


def _shake(seconds: float, seed: int, amplitude: float) -> tuple[float, float]:
    """Smooth, deterministic hand-held wobble: a few slow sines with phases from the seed."""
    phases = np.random.default_rng(seed % 2**32).random(6) * math.tau
    x = y = 0.0
    for i, (fx, fy) in enumerate(((0.7, 0.5), (1.9, 1.3), (3.1, 2.7))):
        x += math.sin(seconds * fx * math.tau + phases[i]) / (i + 1)
        y += math.sin(seconds * fy * math.tau + phases[i + 3]) / (i + 1)
    return (amplitude * x / 1.8, amplitude * y / 1.8)


def _first_frame(path: Path, job: AnimaticJob) -> np.ndarray:
    """The image to start from, cropped to fill the frame, as one yuv420p array."""
    with Image.open(path) as image:
        fitted = ImageOps.fit(image.convert("RGB"), (job.width, job.height), Image.Resampling.BILINEAR)
    planes = Planes.from_image(fitted)
    buffer = FrameBuffer(job.width, job.height)
    buffer.show(planes, 0, 0)
    return buffer.data.copy()
