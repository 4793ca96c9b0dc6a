"""Stitch the shots of a cut into one clip in ONE decode → encode pass, watermark and QC included.

Each shot clip is decoded once; its frames are scaled to the cut's size (letterboxed
if the aspect differs), re-timed onto the cut's constant frame rate (frames repeated
or dropped by their timestamps, the shot trimmed or held to its planned length),
graded to the first shot's colours (:mod:`adapters.media.colour`), crossfaded into the
previous shot on request, measured for QC (per shot, before any change, and on the cut,
with its seams), marked, and encoded. The sound is built alongside
(:mod:`adapters.media.soundtrack`): each shot's audio or silence, crossfaded, with the
narration mixed on top. There is no second re-encode: post-processing a cut is this
pass, then C2PA signing (which only rewrites the container).

Lengths: shot ``i`` lasts ``round(seconds_i * fps)`` frames; a crossfade of ``d`` seconds
overlaps neighbours, so the cut lasts ``sum(seconds) - (n - 1) * d`` (hard cuts: the sum).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from adapters.media.burnin import CaptionBurner
from adapters.media.captions import Cue
from adapters.media.colour import ColourMatch, shot_stats
from adapters.media.encoding import Demux, add_h264, planes_frame, reason_of, yuv_planes
from adapters.media.loudness import Loudness
from adapters.media.qc import FrameMeter, QcLimits, QcReport, Seam
from adapters.media.soundtrack import RATE, Soundtrack, load_voice, shot_sound
from adapters.media.watermark import Watermark, YuvMark, render_mark
from bot.errors import MediaError


@dataclass(frozen=True)
class ShotClip:
    """One rendered shot to stitch: its file, its number in the cut, its planned length.

    ``continues`` marks a shot that continues the previous one's take, so a visible jump
    at its seam is a fault QC reports.
    """

    path: Path
    index: int
    seconds: float
    continues: bool = False


@dataclass(frozen=True)
class VoiceLine:
    """A narration file for one shot, starting ``offset`` seconds after that shot starts."""

    shot: int
    path: Path
    offset: float = 0.0


@dataclass(frozen=True)
class StitchOptions:
    """How to stitch: transitions, grading, output size and rate, the mark and the narration."""

    crossfade: float = 0.0  # seconds; 0 = hard cuts
    colour_match: bool = True
    size: tuple[int, int] | None = None  # default: the first shot's
    fps: Fraction | int | None = None  # default: the first shot's
    watermark: Watermark | None = None
    narration: tuple[VoiceLine, ...] = ()
    captions: tuple[Cue, ...] = ()  # burned into the picture (explainers asked with --captions burn)
    duck_db: float = -12.0
    qc_limits: QcLimits = field(default_factory=QcLimits)


@dataclass(frozen=True)
class ShotSpan:
    """Where a shot sits in the cut (seconds; a crossfade makes neighbours overlap) and its QC."""

    index: int
    start: float
    end: float
    qc: QcReport | None = None
    held_frames: int = 0  # frames repeated because the shot ended before its planned length
    colour_gains: tuple[float, float, float] = (1.0, 1.0, 1.0)
    colour_shifts: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class StitchedCut:
    path: Path
    seconds: float
    frames: int
    fps: Fraction
    size: tuple[int, int]
    shots: tuple[ShotSpan, ...]
    qc: QcReport  # the cut as a whole, seams included
    loudness: Loudness | None  # of the sound track, when there is one


class ShotUnusable(MediaError):
    """One shot cannot be stitched; only that shot needs rendering again."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"shot {index} {reason}")
        self.index, self.reason = index, reason


def plan_spans(seconds: list[float], fps: Fraction, crossfade: float = 0.0) -> list[tuple[int, int]]:
    """Each shot's first frame in the cut and its frame count (pure: captions and narration use it)."""
    fade = round(crossfade * fps)
    spans, at = [], 0
    for length in seconds:
        frames = max(1, round(length * fps))
        spans.append((at, frames))
        at += frames - fade
    return spans


def planned_spans(
    shots: Sequence[ShotClip], options: StitchOptions = StitchOptions()
) -> tuple[ShotSpan, ...]:
    """Where each shot will sit in the cut :func:`stitch` makes with ``options`` (for narration)."""
    if not shots:
        return ()
    _, fps = _format_of(shots[0], options)
    spans = plan_spans([s.seconds for s in shots], fps, options.crossfade)
    return tuple(
        ShotSpan(shot.index, float(at / fps), float((at + n) / fps))
        for shot, (at, n) in zip(shots, spans, strict=True)
    )


def stitch(shots: list[ShotClip], dest: Path, options: StitchOptions = StitchOptions()) -> StitchedCut:
    """Stitch ``shots`` (in order) into ``dest``; see the module docstring.

    Raises:
        ShotUnusable: a shot cannot be opened or stops decoding (it names the shot).
        MediaError: bad options, or the encode failed.
    """
    if not shots:
        raise MediaError("a cut needs at least one shot")
    size, fps = _format_of(shots[0], options)
    spans = plan_spans([s.seconds for s in shots], fps, options.crossfade)
    fade = round(options.crossfade * fps)
    if fade and any(frames < 2 * fade for _, frames in spans):
        raise MediaError(f"a {options.crossfade:g} s crossfade needs every shot to last twice as long")
    grades = _grades(shots, size) if options.colour_match and len(shots) > 1 else {}
    starts = {shot.index: float(span[0] / fps) for shot, span in zip(shots, spans, strict=True)}
    strays = sorted({v.shot for v in options.narration} - set(starts))
    if strays:
        raise MediaError(f"narration for shots the cut does not have: {strays}")
    voices = [load_voice(v.path, v.shot, starts[v.shot] + v.offset) for v in options.narration]
    audible = bool(voices) or any(_has_audio(s.path) for s in shots)  # else no sound track at all
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with av.open(str(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            pass_ = _CutPass(out, size, fps, fade, options)
            sound = None
            if audible:
                sound = Soundtrack(out, voices, fade=round(fade * RATE / fps), duck_db=options.duck_db)
            done = [
                pass_.add_shot(shot, frames, grades.get(shot.index), sound, last=i == len(shots) - 1)
                for i, (shot, (_, frames)) in enumerate(zip(shots, spans, strict=True))
            ]
            pass_.finish()
            loudness = sound.close() if sound is not None else None
    except av.FFmpegError as exc:
        dest.unlink(missing_ok=True)
        raise MediaError(f"stitching the cut failed: {reason_of(exc)}") from exc
    except BaseException:
        dest.unlink(missing_ok=True)  # never a half-written cut under its name
        raise
    seams = [
        Seam(float(s[0] / fps), shot.index, shot.continues) for shot, s in zip(shots, spans, strict=True)
    ]
    qc = pass_.meter.report(seconds=float(pass_.frames / fps), seams=seams[1:], has_audio=sound is not None)
    placed = tuple(
        ShotSpan(shot.index, float(start / fps), float((start + frames) / fps), *extra)
        for shot, (start, frames), extra in zip(shots, spans, done, strict=True)
    )
    return StitchedCut(dest, float(pass_.frames / fps), pass_.frames, fps, size, placed, qc, loudness)


def _format_of(first: ShotClip, options: StitchOptions) -> tuple[tuple[int, int], Fraction]:
    try:
        with av.open(str(first.path)) as container:
            video = container.streams.video[0]
            width, height = video.codec_context.width, video.codec_context.height
            rate = Fraction(video.average_rate or video.guessed_rate or 24).limit_denominator(1001)
    except (av.FFmpegError, OSError, IndexError) as exc:
        reason = (
            "has no video stream" if isinstance(exc, IndexError) else f"cannot be opened: {reason_of(exc)}"
        )
        raise ShotUnusable(first.index, reason) from exc
    w, h = options.size or (width, height)
    return (w - w % 2, h - h % 2), Fraction(options.fps or rate)


def _has_audio(path: Path) -> bool:
    try:
        with av.open(str(path)) as container:
            return bool(container.streams.audio)
    except (av.FFmpegError, OSError):
        return False


def _grades(shots: list[ShotClip], size: tuple[int, int]) -> dict[int, ColourMatch]:
    """A colour match per shot after the first, onto the first shot's statistics."""
    stats = {}
    for shot in shots:
        try:
            stats[shot.index] = shot_stats(shot.path, size)
        except MediaError as exc:
            raise ShotUnusable(shot.index, f"cannot be graded: {exc}") from exc
    reference = stats[shots[0].index]
    return {shot.index: ColourMatch.between(stats[shot.index], reference) for shot in shots[1:]}


class _CutPass:
    """The frames of the cut, in order: slotting, grading, crossfades, QC, the mark, the encoder."""

    def __init__(
        self,
        out: av.container.OutputContainer,
        size: tuple[int, int],
        fps: Fraction,
        fade: int,
        opts: StitchOptions,
    ) -> None:
        self.out, self.size, self.fps, self.fade, self.limits = out, size, fps, fade, opts.qc_limits
        width, height = size
        self.stream = add_h264(out, width, height, fps, 1 / fps)
        mark = opts.watermark
        self.mark = (
            YuvMark(render_mark(mark, *size), *size, str(mark.position), height >= 720) if mark else None
        )
        self.burner = CaptionBurner(opts.captions, width, height) if opts.captions else None
        self.meter = FrameMeter(float(fps), self.limits)
        self.tail: deque[np.ndarray] = deque()  # the previous shot's last frames, waiting to fade
        self.frames = 0

    def add_shot(
        self, shot: ShotClip, frames: int, grade: ColourMatch | None, sound: Soundtrack | None, *, last: bool
    ) -> tuple[QcReport, int, tuple[float, float, float], tuple[float, float, float]]:
        try:
            container = av.open(str(shot.path))
        except (av.FFmpegError, OSError) as exc:
            raise ShotUnusable(shot.index, f"cannot be opened: {reason_of(exc)}") from exc
        with container:
            if not container.streams.video:
                raise ShotUnusable(shot.index, "has no video stream")
            video = container.streams.video[0]
            video.thread_type = "AUTO"
            audio = container.streams.audio[0] if container.streams.audio and sound is not None else None
            meter = FrameMeter(float(video.average_rate or video.guessed_rate or 24), self.limits)
            slots = _Slots(self, frames, last)
            heard = _Heard(audio)
            demux = Demux(container, [video] + ([audio] if audio is not None else []))
            for item in demux:
                if isinstance(item, av.Packet):
                    heard.decode(item)
                    continue
                planes = self._fitted(item)
                meter.add_plane(planes[: self.size[1]], item.time)  # the provider's picture, as delivered
                if grade is not None:
                    grade.apply(planes, *self.size)
                if not slots.offer(planes, item.time):
                    break  # the planned length is reached: the rest of the shot is trimmed
            if demux.stopped or meter.frames == 0:
                raise ShotUnusable(shot.index, f"stops decoding: {demux.stopped or 'no frames'}")
            held = slots.close()
            if sound is not None:
                first_video = meter.trace.times[0]
                sound.add_shot(heard.sound(first_video, round(frames * RATE / self.fps)))
            report = meter.report(seconds=shot.seconds, has_audio=audio is not None)
        gains = grade.gains if grade is not None else (1.0, 1.0, 1.0)
        shifts = grade.shifts if grade is not None else (0.0, 0.0, 0.0)
        return report, held, gains, shifts

    def emit(self, planes: np.ndarray, slot: int, frames: int, last: bool) -> None:
        """Place the shot's ``slot``-th frame: blend it over the previous shot's tail, or hold it
        back as this shot's tail, or write it."""
        if slot < self.fade and self.tail:
            weight = np.float32((slot + 1) / (self.fade + 1))
            mixed = self.tail.popleft().astype(np.float32) * (1 - weight) + planes * weight
            planes = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        if not last and slot >= frames - self.fade:
            self.tail.append(planes)
            return
        self._write(planes)

    def _write(self, planes: np.ndarray) -> None:
        width, height = self.size
        self.meter.add_plane(planes[:height], float(self.frames / self.fps))
        if self.mark is not None:
            self.mark.blend(planes, width, height)
        if self.burner is not None:
            self.burner.blend(planes, float(self.frames / self.fps))
        self.out.mux(self.stream.encode(planes_frame(planes, self.frames, 1 / self.fps)))
        self.frames += 1

    def finish(self) -> None:
        while self.tail:
            self._write(self.tail.popleft())
        self.out.mux(self.stream.encode(None))

    def _fitted(self, frame: av.VideoFrame) -> np.ndarray:
        """The frame at the cut's size: scaled, and letterboxed if its aspect differs."""
        width, height = self.size
        if (frame.width, frame.height) == self.size:
            return yuv_planes(frame)
        scale = min(width / frame.width, height / frame.height)
        w, h = max(2, round(frame.width * scale / 2) * 2), max(2, round(frame.height * scale / 2) * 2)
        inner = frame.reformat(width=w, height=h, format="yuv420p").to_ndarray()
        if (w, h) == self.size:
            return inner
        canvas = np.empty((height * 3 // 2, width), np.uint8)
        canvas[:height], canvas[height:] = 16, 128  # black in limited-range YUV
        x, y = (width - w) // 2 // 2 * 2, (height - h) // 2 // 2 * 2
        canvas[y : y + h, x : x + w] = inner[:h]
        for plane in range(2):  # U then V, each a quarter of the picture, laid out row after row
            src = inner[h:].reshape(-1)[plane * (w // 2) * (h // 2) :][: (w // 2) * (h // 2)]
            dst = canvas[height:].reshape(-1)[plane * (width // 2) * (height // 2) :]
            dst = dst[: (width // 2) * (height // 2)].reshape(height // 2, width // 2)
            dst[y // 2 : y // 2 + h // 2, x // 2 : x // 2 + w // 2] = src.reshape(h // 2, w // 2)
        return canvas


class _Slots:
    """Re-times one shot's frames onto the cut's constant rate by their timestamps."""

    def __init__(self, cut: _CutPass, frames: int, last: bool) -> None:
        self.cut, self.frames, self.last = cut, frames, last
        self.slot = 0
        self.held: np.ndarray | None = None
        self.origin: float | None = None
        self.repeats = 0

    def offer(self, planes: np.ndarray, at: float | None) -> bool:
        """Take the next decoded frame; ``False`` once every slot of the shot is filled."""
        if self.origin is None:
            self.origin = at or 0.0
        when = (at if at is not None else self.origin + self.slot / float(self.cut.fps)) - self.origin
        if self.held is not None:
            # every slot that starts before this frame shows the held one
            step = 1 / float(self.cut.fps)
            due = 0
            while self.slot + due < self.frames and (self.slot + due) * step < when - 0.5 * step:
                due += 1
            self._emit(self.held, due)
        self.held = planes
        return self.slot < self.frames

    def close(self) -> int:
        """Fill what is left with the last frame; return how many frames were repeated past the shot's end."""
        filled = self.frames - self.slot if self.held is not None else 0
        if self.held is not None:
            self._emit(self.held, filled)
        return max(0, filled - 1)

    def _emit(self, planes: np.ndarray, times: int) -> None:
        # later steps change pixels in place, so a frame shown in several slots is copied for
        # all but its last showing (the usual one-to-one case copies nothing)
        for left in range(times, 0, -1):
            self.cut.emit(planes if left == 1 else planes.copy(), self.slot, self.frames, self.last)
            self.slot += 1


class _Heard:
    """A shot's decoded sound, resampled to the cut's rate, collected until the shot ends."""

    def __init__(self, stream: av.AudioStream | None) -> None:
        self.stream = stream
        self.chunks: list[np.ndarray] = []
        self.start: float | None = None
        self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE) if stream else None
        self.broken = False

    def decode(self, packet: av.Packet[Any]) -> None:
        if self.resampler is None or self.broken:
            return
        try:
            for frame in packet.decode():
                assert isinstance(frame, av.AudioFrame)
                if self.start is None and frame.time is not None:
                    self.start = float(frame.time)
                self.chunks.extend(f.to_ndarray() for f in self.resampler.resample(frame))
        except av.FFmpegError:
            self.broken = True  # the rest of this shot's sound is silence

    def sound(self, video_start: float, length: int) -> np.ndarray:
        if self.resampler is not None and not self.broken:
            self.chunks.extend(f.to_ndarray() for f in self.resampler.resample(None))
        lead = round(((self.start or video_start) - video_start) * RATE)
        return shot_sound(self.chunks, lead, length)
