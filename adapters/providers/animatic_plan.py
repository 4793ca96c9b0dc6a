"""What an animatic shows and when: the job record, shot timing, and the camera move of a shot.

Split from :mod:`adapters.providers.animatic_render` (frames and the encoder) so that the
timing rules and the reading of camera words can be read and tested on their own.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

TITLE_SECONDS = 1.5  # how long the title card covers the start of the first shot


@dataclass(frozen=True)
class ShotCard:
    """One shot as the animatic shows it; ``number`` is its place in the brief's shot list."""

    description: str
    camera: str
    seconds: float
    number: int = 1


@dataclass(frozen=True)
class AnimaticJob:
    """Everything needed to re-render a clip; saved as JSON so any process can resume it."""

    render_id: str
    title: str
    subtitle: str
    shots: tuple[ShotCard, ...]
    seconds: int
    width: int
    height: int
    fps: int
    seed: int
    subject: str = ""
    setting: str = ""
    style: str = ""
    lighting: str = ""
    total_shots: int = 0  # shots in the whole brief (a job may render one shot of a cut)
    title_seconds: float = TITLE_SECONDS  # 0: no title card
    first_frame: str | None = None  # sha256 of the image the clip starts from, if any

    @property
    def total_frames(self) -> int:
        return round(self.seconds * self.fps)

    @property
    def job_id(self) -> str:
        """Derived from the job itself, so submitting the same render twice reuses one job."""
        payload = json.dumps(self.to_dict(), sort_keys=True)
        return "anim_" + hashlib.sha256(payload.encode()).hexdigest()[:24]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnimaticJob:
        shots = tuple(ShotCard(**s) for s in data["shots"])
        return cls(**{**data, "shots": shots})


@dataclass(frozen=True)
class ShotTiming:
    """Where one shot sits in the clip, in frames; the title card covers its first frames."""

    shot: ShotCard
    start: int
    frames: int
    title_frames: int = 0

    @property
    def end(self) -> int:
        return self.start + self.frames


def plan_shots(job: AnimaticJob) -> list[ShotTiming]:
    """Frames per shot, exact to the frame: shot boundaries fall at the shots' cumulative seconds.

    The shots' seconds are scaled to the clip's length if they do not add up to it (a 4 s + 4 s
    brief in an 8 s clip gives 96 + 96 frames at 24 fps). The title card is not a segment of its
    own: it covers the start of the first shot, so it never takes time from the shots.
    """
    total = job.total_frames
    shots = job.shots[:total] or (ShotCard(job.title, "", float(job.seconds)),)
    weights = [max(s.seconds, 1e-3) for s in shots]
    scale = total / sum(weights)
    timings: list[ShotTiming] = []
    start, elapsed = 0, 0.0
    for i, (shot, weight) in enumerate(zip(shots, weights, strict=True)):
        elapsed += weight
        # every shot keeps at least one frame; the last one ends exactly on the clip's end
        end = total if i == len(shots) - 1 else round(elapsed * scale)
        end = min(max(end, start + 1), total - (len(shots) - 1 - i))
        timings.append(ShotTiming(shot, start, end - start))
        start = end
    if job.title_seconds > 0 and shots[0].number == 1:
        first = timings[0]
        title = min(round(job.title_seconds * job.fps), first.frames // 2)
        timings[0] = ShotTiming(first.shot, first.start, first.frames, title)
    return timings


# ---------------------------------------------------------------------- camera moves


class Move(StrEnum):
    """The camera moves an animatic can show."""

    PUSH_IN = "push-in"
    PULL_OUT = "pull-out"
    PAN = "pan"
    TILT = "tilt"
    ORBIT = "orbit"
    HANDHELD = "handheld"
    LOCKED = "locked-off"


@dataclass(frozen=True)
class CameraMove:
    """A shot's move as drawn: its kind, which way (+1 right/up, -1 left/down), how strong,
    and how big the subject is framed (1 = medium shot)."""

    kind: Move
    direction: int = 1
    strength: float = 1.0
    framing: float = 1.0


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b")


# Checked in this order: the first that matches names the move ("handheld close" is handheld,
# "slow reveal pull-back" a pull-out, "macro slider move" a pan framed close).
_MOVES: tuple[tuple[Move, re.Pattern[str]], ...] = (
    (Move.ORBIT, _words("orbit", "orbits", "orbiting", "arc", "arcs", "circle around", "360", "turntable")),
    (Move.HANDHELD, _words("handheld", "hand-held", "shaky", "shoulder-mounted", "documentary")),
    (
        Move.PULL_OUT,
        _words(
            "pull",
            "pulls",
            "pull-out",
            "pull-back",
            "zoom out",
            "dolly out",
            "reveal",
            "widen",
            "widens",
            "back away",
            "dolly back",
            "zoom-out",
        ),
    ),
    (
        Move.PUSH_IN,
        _words(
            "push",
            "pushes",
            "push-in",
            "dolly",
            "dolly-in",
            "zoom",
            "zooms",
            "zoom-in",
            "move in",
            "moves in",
            "creep",
            "fly",
            "flies",
            "fly-through",
        ),
    ),
    (
        Move.TILT,
        _words("tilt", "tilts", "crane", "cranes", "pedestal", "boom", "rise", "rises", "rising", "jib"),
    ),
    (
        Move.PAN,
        _words(
            "pan",
            "pans",
            "panning",
            "whip",
            "track",
            "tracks",
            "tracking",
            "truck",
            "slider",
            "follow",
            "follows",
            "sweep",
            "sweeping",
            "glide",
            "aerial",
            "drone",
        ),
    ),
    (Move.LOCKED, _words("static", "locked", "locked-off", "lock-off", "tripod", "hold", "still", "fixed")),
)
_SLOW = _words("slow", "slowly", "gentle", "gently", "subtle", "steady", "creep")
_FAST = _words("fast", "quick", "whip", "snap", "rapid", "crash")
_BACK = _words("left", "down", "downward", "downwards", "descend", "descends", "lower", "counter-clockwise")
_CLOSE = _words("close", "close-up", "closeup", "macro", "detail", "details", "insert", "extreme")
_WIDE = _words("wide", "establishing", "lifestyle", "overview", "aerial", "drone", "landscape")


def read_camera(camera: str, description: str = "") -> CameraMove:
    """Map a shot's camera words (as the refiners write them) to a move the animatic can draw.

    A camera direction with no move word ("low-angle hero", "over-the-shoulder") is locked off:
    the animatic shows no move it was not asked for.
    """
    words = camera.lower()
    kind = next((move for move, pattern in _MOVES if pattern.search(words)), Move.LOCKED)
    strength = 0.6 if _SLOW.search(words) else 1.6 if _FAST.search(words) else 1.0
    framing_words = f"{words} {description.lower()}"
    framing = 1.45 if _CLOSE.search(framing_words) else 0.7 if _WIDE.search(framing_words) else 1.0
    direction = -1 if _BACK.search(words) else 1
    return CameraMove(kind, direction, strength, framing)
