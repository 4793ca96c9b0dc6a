"""Automatic QC: measure each frame once and flag what a reviewer should not have to find.

Black, frozen and flickering stretches, a length or size other than the one asked for,
missing audio, and in a cut of several shots a flash or a jump at a seam. Each frame's
Y plane is shrunk to a small grey thumbnail (block means) before any arithmetic; the
post-processing pass hands :class:`FrameMeter` the planes it decoded for the watermark,
so QC adds no decode of its own. Findings are plain sentences for the thread ("1.2 s
frozen at 0:07") and typed records for rules and the audit trail.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from adapters.media.encoding import Demux, frame_planes, reason_of

BLACK, FROZEN, FLICKER = "black", "frozen", "flicker"
DURATION, SIZE, AUDIO, UNDECODABLE = "duration", "size", "audio", "undecodable"
SEAM_FLASH, SEAM_JUMP = "seam_flash", "seam_jump"


@dataclass(frozen=True)
class QcLimits:
    """Thresholds; luma values are on a 0-255 full-range scale."""

    dark_pixel: float = 26.0  # a pixel this dark or darker counts as black (ffmpeg's 0.1)
    black_share: float = 0.98  # of the pixels, for the frame to count as black
    black_seconds: float = 0.5
    # Mean absolute luma difference to the frame ``still_window`` seconds earlier that counts as
    # "no change". Comparing across half a second, not to the previous frame, tells a frozen picture
    # (codec noise stays ~0.1 however far apart) from a slow, smooth move (its change adds up).
    still_diff: float = 0.5
    still_window: float = 0.5
    frozen_seconds: float = 1.0
    flicker_jump: float = 30.0  # mean-luma jump that, reversed within a few frames, is a flash
    flicker_events: int = 3
    duration_tolerance: float = 0.1
    # hard failures: black or frozen over this share of the clip, or a clip this much too short
    hard_share: float = 0.5
    thumb_width: int = 96
    # seams: a run of at most this many frames brighter (or darker) than both its neighbours by
    # ``flicker_jump`` near a cut is a flash; at a cut between continuous shots, a frame-to-frame
    # change this many times the usual one (and at least ``seam_jump``) is a jump
    flash_frames: int = 3
    seam_window: int = 3
    seam_jump: float = 12.0
    seam_jump_ratio: float = 4.0


@dataclass(frozen=True)
class Finding:
    """One problem: ``kind`` is one of the module's constants; times are in seconds."""

    kind: str
    start: float
    seconds: float
    hard: bool
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class QcReport:
    findings: tuple[Finding, ...]
    frames: int = 0
    seconds: float = 0.0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    has_audio: bool = False

    @property
    def hard_failure(self) -> bool:
        return any(f.hard for f in self.findings)

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(f.message for f in self.findings)

    @property
    def undecodable(self) -> Finding | None:
        return next((f for f in self.findings if f.kind == UNDECODABLE), None)


@dataclass(frozen=True)
class Seam:
    """Where one shot of a cut begins.

    Args:
        at: seconds into the cut of the incoming shot's first frame.
        shot: the incoming shot's number (1-based).
        continuous: the shot continues the same take, so a visible jump there is a fault.
    """

    at: float
    shot: int
    continuous: bool = False


@dataclass
class _Trace:
    """Per-frame measurements of the thumbnails."""

    times: list[float] = field(default_factory=list)
    mean: list[float] = field(default_factory=list)
    dark: list[float] = field(default_factory=list)
    diff: list[float] = field(default_factory=list)  # to the previous frame; 255 for the first
    drift: list[float] = field(default_factory=list)  # to the frame ``still_window`` earlier; 255 before


def clock(seconds: float) -> str:
    """``67.4`` → ``"1:07"``, how a reviewer reads a position in a short clip."""
    whole = int(max(0.0, seconds))
    return f"{whole // 60}:{whole % 60:02d}"


class FrameMeter:
    """Measures frames one by one for QC, so any pass that decodes a clip can check it too.

    The post-processing pass feeds it the Y plane it already decoded for the watermark
    (:meth:`add_plane`); :func:`inspect_clip` feeds it frames it decodes itself
    (:meth:`add_frame`). Either way no frame is decoded twice.

    Args:
        rate: the clip's frame rate, for the frozen window and frame timing.
        limits: the thresholds.
    """

    def __init__(self, rate: float, limits: QcLimits = QcLimits()) -> None:
        self.rate = rate or 24.0
        self.limits = limits
        self.trace = _Trace()
        self.stopped: str | None = None
        self._lag = max(1, round(self.rate * limits.still_window))
        self._recent: deque[np.ndarray] = deque(maxlen=self._lag)
        self._previous: np.ndarray | None = None
        self.width = self.height = 0

    def add_plane(self, luma: np.ndarray, at: float | None, *, full_range: bool = False) -> None:
        """Measure one frame from its Y plane (limited range unless ``full_range``)."""
        self.height, self.width = luma.shape
        self._measure(luma_thumbnail(luma, self.limits.thumb_width, full_range=full_range), at)

    def add_frame(self, frame: av.VideoFrame) -> None:
        """Measure one decoded frame of any pixel format."""
        if frame.format.name not in ("yuv420p", "yuvj420p"):
            frame = frame.reformat(format="yuv420p")
        at = float(frame.time) if frame.time is not None else None
        self.add_plane(frame_planes(frame)[0], at, full_range=frame.format.name == "yuvj420p")

    def stop(self, reason: str) -> None:
        """The clip stopped decoding here; what was measured so far still counts."""
        self.stopped = reason

    def _measure(self, luma: np.ndarray, at: float | None) -> None:
        trace, limits = self.trace, self.limits
        trace.times.append(at if at is not None else len(trace.times) / self.rate)
        trace.mean.append(float(luma.mean()))
        trace.dark.append(float((luma <= limits.dark_pixel).mean()))
        trace.diff.append(255.0 if self._previous is None else float(np.abs(luma - self._previous).mean()))
        full = len(self._recent) == self._lag
        trace.drift.append(float(np.abs(luma - self._recent[0]).mean()) if full else 255.0)
        self._recent.append(luma)
        self._previous = luma

    @property
    def frames(self) -> int:
        return len(self.trace.times)

    def report(
        self,
        *,
        seconds: float | None = None,
        size: tuple[int, int] | None = None,
        audio: bool = False,
        has_audio: bool = False,
        seams: Sequence[Seam] = (),
    ) -> QcReport:
        """Judge what was measured against what was asked for (see :func:`inspect_clip`)."""
        trace, limits, rate = self.trace, self.limits, self.rate
        if not trace.times:
            return _broken(f"has no decodable frames{f' ({self.stopped})' if self.stopped else ''}")
        start = trace.times[0]
        times = [t - start for t in trace.times]
        trace = _Trace(times, trace.mean, trace.dark, trace.diff, trace.drift)
        length = times[-1] + 1 / rate
        findings = [
            *_black(trace, rate, length, limits),
            *_frozen(trace, rate, length, limits),
            *_flicker(trace, limits),
            *_seams(trace, seams, rate, limits),
        ]
        if self.stopped:
            message = f"the clip stops decoding at {clock(length)}: {self.stopped}"
            findings.insert(0, Finding(UNDECODABLE, length, 0.0, True, message))
        if seconds is not None and abs(length - seconds) > limits.duration_tolerance:
            cut_short = length < limits.hard_share * seconds  # a truncated file, not a rounding
            message = f"lasts {length:.2f} s, {seconds:g} s were asked for"
            findings.append(Finding(DURATION, 0.0, length, cut_short, message))
        if size is not None and (self.width, self.height) != tuple(size):
            message = f"is {self.width}x{self.height}, {size[0]}x{size[1]} was asked for"
            findings.append(Finding(SIZE, 0.0, 0.0, False, message))
        if audio and not has_audio:
            findings.append(Finding(AUDIO, 0.0, 0.0, False, "has no audio track, but audio was asked for"))
        return QcReport(tuple(findings), len(times), length, self.width, self.height, rate, has_audio)


def luma_thumbnail(luma: np.ndarray, width: int, *, full_range: bool = False) -> np.ndarray:
    """A small full-range grey picture of a Y plane: the mean of each square block.

    Block means, like swscale's area scaling, average the codec's noise away, so a
    frozen picture measures as still; working on the plane in hand costs no decode.
    The sums run in 16- then 32-bit integers (exact, and ~9x faster than a float mean).
    """
    height_px, width_px = luma.shape
    block = min(257, max(1, width_px // max(1, width)))  # 255 x 257 still fits 16 bits
    rows, cols = max(1, height_px // block), max(1, width_px // block)
    top, left = (height_px - rows * block) // 2, (width_px - cols * block) // 2
    cropped = luma[top : top + rows * block, left : left + cols * block]
    down = cropped.reshape(rows, block, cols * block).sum(axis=1, dtype=np.uint16)
    sums = down.reshape(rows, cols, block).sum(axis=2, dtype=np.uint32)
    means: np.ndarray = sums.astype(np.float32) * np.float32(1.0 / (block * block))
    if full_range:
        return means
    scaled: np.ndarray = np.clip((means - 16.0) * (255.0 / 219.0), 0.0, 255.0)
    return scaled


def inspect_clip(
    path: Path,
    *,
    seconds: float | None = None,
    size: tuple[int, int] | None = None,
    audio: bool = False,
    limits: QcLimits = QcLimits(),
    seams: Sequence[Seam] = (),
) -> QcReport:
    """Decode ``path`` to the end and report findings against what was asked for.

    Args:
        seconds: the requested length; ``None`` skips the check.
        size: the requested (width, height); ``None`` skips the check.
        audio: whether an audio track was asked for.
        seams: where the shots of a cut meet, to check for flashes and jumps there.
    """
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        return _broken(f"cannot be opened: {reason_of(exc)}")
    with container:
        if not container.streams.video:
            return _broken("has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        meter = FrameMeter(float(stream.average_rate or stream.guessed_rate or 24), limits)
        demux = Demux(container, [stream])
        for frame in demux:
            assert isinstance(frame, av.VideoFrame)
            meter.add_frame(frame)
        if demux.stopped:
            meter.stop(demux.stopped)
        has_audio = bool(container.streams.audio)
    return meter.report(seconds=seconds, size=size, audio=audio, has_audio=has_audio, seams=seams)


def _broken(reason: str) -> QcReport:
    return QcReport((Finding(UNDECODABLE, 0.0, 0.0, True, f"the clip {reason}"),))


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """Inclusive index ranges where ``flags`` stays true."""
    runs: list[tuple[int, int]] = []
    first: int | None = None
    for i, flag in enumerate([*flags, False]):
        if flag and first is None:
            first = i
        elif not flag and first is not None:
            runs.append((first, i - 1))
            first = None
    return runs


def _black(trace: _Trace, rate: float, length: float, limits: QcLimits) -> list[Finding]:
    found = []
    for first, last in _runs([d >= limits.black_share for d in trace.dark]):
        span = trace.times[last] - trace.times[first] + 1 / rate
        if span >= limits.black_seconds:
            start = trace.times[first]
            hard = span >= limits.hard_share * length
            found.append(Finding(BLACK, start, span, hard, f"{span:.1f} s black at {clock(start)}"))
    return found


def _frozen(trace: _Trace, rate: float, length: float, limits: QcLimits) -> list[Finding]:
    still = [d < limits.still_diff for d in trace.drift]
    black = [d >= limits.black_share for d in trace.dark]
    lag = max(1, round(rate * limits.still_window))
    found = []
    for first, last in _runs(still):
        origin = max(0, first - lag)  # the frame that the still ones repeat
        if all(black[origin : last + 1]):
            continue  # a black stretch is reported as black, not twice
        span = trace.times[last] - trace.times[origin] + 1 / rate
        if span >= limits.frozen_seconds:
            start = trace.times[origin]
            hard = span >= limits.hard_share * length
            found.append(Finding(FROZEN, start, span, hard, f"{span:.1f} s frozen at {clock(start)}"))
    return found


def _flicker(trace: _Trace, limits: QcLimits) -> list[Finding]:
    """Count flashes: a big luma jump undone within three frames (a cut only jumps once)."""
    jumps = np.diff(np.asarray(trace.mean))
    events: list[int] = []
    i = 0
    while i < len(jumps):
        if abs(jumps[i]) >= limits.flicker_jump:
            back = [
                k
                for k in range(i + 1, min(i + 4, len(jumps)))
                if abs(jumps[k]) >= limits.flicker_jump and np.sign(jumps[k]) != np.sign(jumps[i])
            ]
            if back:
                events.append(i + 1)
                i = back[0] + 1
                continue
        i += 1
    if len(events) < limits.flicker_events:
        return []
    start, end = trace.times[events[0]], trace.times[events[-1]]
    message = f"strong flicker: {len(events)} flashes between {clock(start)} and {clock(end)}"
    return [Finding(FLICKER, start, end - start, False, message)]


def _seams(trace: _Trace, seams: Sequence[Seam], rate: float, limits: QcLimits) -> list[Finding]:
    """Flashes at any seam; jumps at seams between shots of one continuous take."""
    found: list[Finding] = []
    means = trace.mean
    for seam in seams:
        index = next((i for i, t in enumerate(trace.times) if t >= seam.at - 0.5 / rate), None)
        if index is None or index == 0:
            continue
        flash = _flash_near(means, index, limits)
        if flash is not None:
            at = trace.times[flash]
            message = f"a flash at the cut to shot {seam.shot} at {clock(at)}"
            found.append(Finding(SEAM_FLASH, at, 0.0, False, message))
        elif seam.continuous and _jumps(trace.diff, index, limits):
            at = trace.times[index]
            message = f"a visible jump at the cut to shot {seam.shot} at {clock(at)}"
            found.append(Finding(SEAM_JUMP, at, 0.0, False, message))
    return found


def _flash_near(means: list[float], index: int, limits: QcLimits) -> int | None:
    """The first frame of a short run, within the seam window, that stands out from both sides."""
    jump = limits.flicker_jump
    lo, hi = max(1, index - limits.seam_window), min(len(means) - 1, index + limits.seam_window)
    for first in range(lo, hi + 1):
        for length in range(1, limits.flash_frames + 1):
            after = first + length
            if after >= len(means):
                break
            run = means[first:after]
            before, behind = means[first - 1], means[after]
            brighter = min(run) - max(before, behind) >= jump
            darker = min(before, behind) - max(run) >= jump
            if brighter or darker:
                return first
    return None


def _jumps(diffs: list[float], index: int, limits: QcLimits) -> bool:
    """The change into ``index`` dwarfs the frame-to-frame change on both sides of it."""
    around = [d for d in diffs[max(1, index - 6) : index] + diffs[index + 1 : index + 7] if d < 255.0]
    usual = float(np.median(around)) if around else 0.0
    return diffs[index] >= max(limits.seam_jump, limits.seam_jump_ratio * usual)
