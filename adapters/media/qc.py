"""Automatic QC: decode a clip once and flag what a reviewer should not have to find.

Black, frozen and flickering stretches, a length or size other than the one asked for,
and missing audio. Frames are shrunk to a small grey thumbnail by swscale before any
arithmetic, so the check costs about one decode. Findings are plain sentences for the
thread ("1.2 s frozen at 0:07") and typed records for rules and the audit trail.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

BLACK, FROZEN, FLICKER = "black", "frozen", "flicker"
DURATION, SIZE, AUDIO, UNDECODABLE = "duration", "size", "audio", "undecodable"


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


def inspect_clip(
    path: Path,
    *,
    seconds: float | None = None,
    size: tuple[int, int] | None = None,
    audio: bool = False,
    limits: QcLimits = QcLimits(),
) -> QcReport:
    """Decode ``path`` to the end and report findings against what was asked for.

    Args:
        seconds: the requested length; ``None`` skips the check.
        size: the requested (width, height); ``None`` skips the check.
        audio: whether an audio track was asked for.
    """
    trace = _Trace()
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        return _broken(f"cannot be opened: {_reason(exc)}")
    with container:
        if not container.streams.video:
            return _broken("has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        has_audio = bool(container.streams.audio)
        rate = float(stream.average_rate or stream.guessed_rate or 24)
        width, height = stream.codec_context.width, stream.codec_context.height
        thumb = (limits.thumb_width, max(2, round(limits.thumb_width * height / max(1, width))))
        stopped: str | None = None
        previous: np.ndarray | None = None
        lag = max(1, round(rate * limits.still_window))
        recent: deque[np.ndarray] = deque(maxlen=lag)
        try:
            for frame in container.decode(stream):
                width, height = frame.width, frame.height
                grey = frame.reformat(width=thumb[0], height=thumb[1], format="gray")
                luma = grey.to_ndarray().astype(np.float32)
                at = float(frame.time) if frame.time is not None else len(trace.times) / rate
                trace.times.append(at)
                trace.mean.append(float(luma.mean()))
                trace.dark.append(float((luma <= limits.dark_pixel).mean()))
                diff = 255.0 if previous is None else float(np.abs(luma - previous).mean())
                trace.diff.append(diff)
                drift = float(np.abs(luma - recent[0]).mean()) if len(recent) == lag else 255.0
                trace.drift.append(drift)
                recent.append(luma)
                previous = luma
        except (av.FFmpegError, OSError) as exc:
            stopped = _reason(exc)
    if not trace.times:
        return _broken(f"has no decodable frames{f' ({stopped})' if stopped else ''}")
    start = trace.times[0]
    trace.times = [t - start for t in trace.times]
    length = trace.times[-1] + 1 / rate
    findings = [
        *_black(trace, rate, length, limits),
        *_frozen(trace, rate, length, limits),
        *_flicker(trace, limits),
    ]
    if stopped:
        findings.insert(
            0,
            Finding(UNDECODABLE, length, 0.0, True, f"the clip stops decoding at {clock(length)}: {stopped}"),
        )
    if seconds is not None and abs(length - seconds) > limits.duration_tolerance:
        cut_short = length < limits.hard_share * seconds  # a truncated file, not a rounding
        findings.append(
            Finding(DURATION, 0.0, length, cut_short, f"lasts {length:.2f} s, {seconds:g} s were asked for")
        )
    if size is not None and (width, height) != tuple(size):
        findings.append(
            Finding(SIZE, 0.0, 0.0, False, f"is {width}x{height}, {size[0]}x{size[1]} was asked for")
        )
    if audio and not has_audio:
        findings.append(Finding(AUDIO, 0.0, 0.0, False, "has no audio track, but audio was asked for"))
    return QcReport(tuple(findings), len(trace.times), length, width, height, rate, has_audio)


def _broken(reason: str) -> QcReport:
    return QcReport((Finding(UNDECODABLE, 0.0, 0.0, True, f"the clip {reason}"),))


def _reason(exc: BaseException) -> str:
    """FFmpeg's own words ("Invalid data found when processing input"), without errno noise."""
    text = getattr(exc, "strerror", None) or str(exc).strip()
    return str(text) or type(exc).__name__


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
