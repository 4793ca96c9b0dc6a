"""Colour matching between the shots of a cut: every shot graded to the first one.

Chained shots drift (each provider job re-imagines the light a little, and a shot
started from the previous shot's last frame drifts further). Matching the mean and
spread of each channel to the first shot's (Reinhard's transfer) in YCbCr — luma and
two colour-difference channels, the perceptual split the clips are already coded in —
pulls them back. Statistics come from each shot's key frames alone (decoded with
non-key frames skipped, so it costs a fraction of a decode); the correction is a
256-entry table per plane, applied in place to the planes the stitching pass already
holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from adapters.media.encoding import reason_of, split_planes, yuv_planes
from bot.errors import MediaError

MAX_SAMPLES = 8  # key frames read per shot
GAIN_LIMITS = (0.5, 2.0)  # a spread change beyond this is a different scene, not drift


@dataclass(frozen=True)
class ChannelStats:
    """Mean and standard deviation of Y, Cb and Cr (limited-range code values)."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]


def plane_stats(planes: np.ndarray, width: int, height: int) -> ChannelStats:
    """Statistics of one yuv420p picture, read on every other pixel (enough for a mean)."""
    y, u, v = split_planes(planes, width, height)
    channels = [y[::2, ::2], u, v]
    means = tuple(float(c.mean()) for c in channels)
    stds = tuple(float(c.std()) for c in channels)
    return ChannelStats((means[0], means[1], means[2]), (stds[0], stds[1], stds[2]))


def shot_stats(path: Path, size: tuple[int, int] | None = None) -> ChannelStats:
    """Average statistics of a clip's key frames (at ``size`` if given, as the pass will see them).

    Raises:
        MediaError: the clip cannot be opened or has no decodable key frame.
    """
    samples: list[ChannelStats] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONKEY"
            for frame in container.decode(stream):
                if size is not None and (frame.width, frame.height) != size:
                    frame = frame.reformat(width=size[0], height=size[1], format="yuv420p")
                samples.append(plane_stats(yuv_planes(frame), frame.width, frame.height))
                if len(samples) >= MAX_SAMPLES:
                    break
    except (av.FFmpegError, OSError, IndexError) as exc:
        reason = reason_of(exc) if not isinstance(exc, IndexError) else "it has no video stream"
        raise MediaError(f"cannot read the colours of {path.name}: {reason}") from exc
    if not samples:
        raise MediaError(f"cannot read the colours of {path.name}: no key frame decodes")
    # medians: one odd key frame (a flash, a title) does not set the grade of the whole shot
    mean = np.median([s.mean for s in samples], axis=0)
    std = np.median([s.std for s in samples], axis=0)
    return ChannelStats((mean[0], mean[1], mean[2]), (std[0], std[1], std[2]))


@dataclass(frozen=True)
class ColourMatch:
    """One lookup table per plane that moves a shot's statistics onto the reference's."""

    luts: tuple[np.ndarray, np.ndarray, np.ndarray]
    gains: tuple[float, float, float]
    shifts: tuple[float, float, float]

    @classmethod
    def between(cls, shot: ChannelStats, reference: ChannelStats) -> ColourMatch:
        codes = np.arange(256, dtype=np.float32)
        luts, gains, shifts = [], [], []
        for i, (lo, hi) in enumerate(((16, 235), (16, 240), (16, 240))):
            gain = reference.std[i] / shot.std[i] if shot.std[i] > 0.5 else 1.0
            gain = float(np.clip(gain, *GAIN_LIMITS))
            mapped = (codes - shot.mean[i]) * gain + reference.mean[i]
            luts.append(np.clip(np.rint(mapped), lo, hi).astype(np.uint8))
            gains.append(gain)
            shifts.append(reference.mean[i] - shot.mean[i])
        return cls(
            (luts[0], luts[1], luts[2]), (gains[0], gains[1], gains[2]), (shifts[0], shifts[1], shifts[2])
        )

    def apply(self, planes: np.ndarray, width: int, height: int) -> None:
        """Grade a yuv420p array (as ``VideoFrame.to_ndarray`` returns it) in place."""
        for plane, lut in zip(split_planes(planes, width, height), self.luts, strict=True):
            np.take(lut, plane, out=plane, mode="clip")  # element-wise, so in place is safe
