"""Loudness by ITU-R BS.1770 / EBU R 128, measured with FFmpeg's own ``ebur128`` filter.

The filter is the reference implementation most broadcast tools agree with (K-weighting,
400 ms blocks, the -70 LUFS absolute and -10 LU relative gates, 4x oversampled true
peak); running it through PyAV's filter graph needs no extra package and measures a
mix as it is encoded, so nothing is decoded again to check it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from av.filter import Graph

SILENT = -70.0  # LUFS: the absolute gate; nothing quieter counts as programme


@dataclass(frozen=True)
class Loudness:
    """Integrated loudness (LUFS), true peak (dBTP) and the share of samples at full scale."""

    integrated: float
    true_peak: float
    clipped_share: float
    seconds: float


class LoudnessMeter:
    """Feed planar float samples (channels x samples) block by block; read :meth:`result` at the end."""

    def __init__(self, rate: int, channels: int) -> None:
        self.rate, self.channels = rate, channels
        self._layout = "mono" if channels == 1 else "stereo"
        self._graph = Graph()
        source = self._graph.add_abuffer(
            format="fltp", sample_rate=rate, layout=self._layout, time_base=Fraction(1, rate)
        )
        meter = self._graph.add("ebur128", "metadata=1:peak=true")
        sink = self._graph.add("abuffersink")
        source.link_to(meter)
        meter.link_to(sink)
        self._graph.configure()
        self._samples = 0
        self._clipped = 0
        self._last: dict[str, str] = {}

    def add(self, block: np.ndarray) -> None:
        """Measure ``block`` (shape ``(channels, n)``, float32 in -1..1)."""
        if block.shape[1] == 0:
            return
        self._clipped += int(np.count_nonzero(np.abs(block).max(axis=0) >= 0.999))
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block, np.float32), "fltp", self._layout)
        frame.sample_rate, frame.pts = self.rate, self._samples
        self._samples += block.shape[1]
        self._graph.push(frame)
        self._drain()

    def result(self) -> Loudness:
        self._graph.push(None)
        self._drain()
        integrated = float(self._last.get("lavfi.r128.I", SILENT))
        peak = float(self._last.get("lavfi.r128.true_peak", 0.0))
        peak_db = 20 * math.log10(peak) if peak > 0 else -math.inf
        share = self._clipped / self._samples if self._samples else 0.0
        return Loudness(
            integrated if integrated > SILENT else -math.inf, peak_db, share, self._samples / self.rate
        )

    def _drain(self) -> None:
        while True:
            try:
                frame = self._graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            self._last = dict(frame.metadata)


def loudness_of(samples: np.ndarray, rate: int) -> Loudness:
    """The loudness of a whole signal, mono ``(n,)`` or planar ``(channels, n)``."""
    block = samples[None, :] if samples.ndim == 1 else samples
    meter = LoudnessMeter(rate, block.shape[0])
    step = rate  # one second at a time keeps the filter's queue short
    for start in range(0, block.shape[1], step):
        meter.add(block[:, start : start + step])
    return meter.result()
