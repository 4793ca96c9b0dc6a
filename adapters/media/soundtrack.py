"""The sound of a cut, built shot by shot in the stitching pass: each shot's own audio (silence
where it has none), crossfaded like the picture, with the narration on top and the shot's
sound ducked under the voice; metered for loudness as it is encoded.

Each shot's sound arrives once its picture is done and is written at once, except the
overlap a crossfade still needs, so memory holds one shot's sound at most. Ducking is a
gain curve that is a function of time alone (ramps around each voice line's speech), so
it needs no look-ahead and no state between blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from adapters.media.encoding import reason_of
from adapters.media.loudness import Loudness, LoudnessMeter, loudness_of
from bot.errors import MediaError

RATE = 48000
VOICE_LUFS = -16.0  # narration level: clear over a phone speaker or a classroom projector
VOICE_PEAK = 0.89  # -1 dBFS: headroom for the bed under it
SPEECH_FLOOR = 0.01  # -40 dBFS: quieter than this is a pause, not speech
ATTACK, RELEASE = 0.15, 0.35  # seconds the bed takes to dip before a line and come back after it


@dataclass(frozen=True)
class PlacedVoice:
    """A narration line loaded at the cut's rate, where it starts in the cut, and where it speaks."""

    shot: int
    samples: np.ndarray  # mono float32
    start: int  # sample index in the cut
    speech: tuple[int, int]  # first and last sample (in the cut) above the speech floor
    loudness: Loudness  # of the line as synthesized, before levelling

    @property
    def end(self) -> int:
        return self.start + len(self.samples)


def load_voice(path: Path, shot: int, start_seconds: float, rate: int = RATE) -> PlacedVoice:
    """Decode a voice file (any format PyAV reads), level it to :data:`VOICE_LUFS`, place it.

    Raises:
        MediaError: the file cannot be decoded or holds no sound.
    """
    chunks: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate)
            for frame in container.decode(audio=0):
                chunks.extend(f.to_ndarray()[0] for f in resampler.resample(frame))
            chunks.extend(f.to_ndarray()[0] for f in resampler.resample(None))
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise MediaError(f"the narration for shot {shot} cannot be read: {reason_of(exc)}") from exc
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    loud = np.flatnonzero(np.abs(samples) >= SPEECH_FLOOR)
    if not loud.size:
        raise MediaError(f"the narration for shot {shot} is silent")
    measured = loudness_of(samples, rate)
    gain = 10 ** ((VOICE_LUFS - measured.integrated) / 20) if np.isfinite(measured.integrated) else 1.0
    gain = min(gain, VOICE_PEAK / float(np.abs(samples).max()))
    start = round(start_seconds * rate)
    speech = (start + int(loud[0]), start + int(loud[-1]))
    return PlacedVoice(shot, samples * np.float32(gain), start, speech, measured)


def duck_gain(voices: list[PlacedVoice], start: int, count: int, duck_db: float, rate: int) -> np.ndarray:
    """The bed's gain for samples ``start .. start + count``: 1, dipping to ``duck_db`` under speech."""
    gain = np.ones(count, np.float32)
    if not voices:
        return gain
    low = 10 ** (duck_db / 20)
    times = np.arange(start, start + count, dtype=np.float64)
    attack, release = ATTACK * rate, RELEASE * rate
    for voice in voices:
        first, last = voice.speech
        if first - attack > start + count or last + release < start:
            continue
        curve = np.interp(times, [first - attack, first, last, last + release], [1.0, low, low, 1.0])
        np.minimum(gain, curve.astype(np.float32), out=gain)
    return gain


def voice_block(voices: list[PlacedVoice], start: int, count: int) -> np.ndarray:
    """The narration's samples for ``start .. start + count`` (lines may overlap; they add)."""
    block = np.zeros(count, np.float32)
    for voice in voices:
        lo, hi = max(start, voice.start), min(start + count, voice.end)
        if lo < hi:
            block[lo - start : hi - start] += voice.samples[lo - voice.start : hi - voice.start]
    return block


class Soundtrack:
    """Writes a cut's stereo AAC track shot by shot (see the module docstring).

    Args:
        out: the container being written; the audio stream is added here.
        voices: the narration, placed.
        fade: crossfade length in samples (0 for hard cuts).
        duck_db: how far the shot's own sound dips under the voice.
    """

    def __init__(
        self,
        out: av.container.OutputContainer,
        voices: list[PlacedVoice],
        *,
        fade: int = 0,
        duck_db: float = -12.0,
        rate: int = RATE,
    ) -> None:
        self.rate, self.voices, self.fade, self.duck_db = rate, voices, fade, duck_db
        self.stream = out.add_stream("aac", rate=rate, layout="stereo")
        self._out = out
        self._meter = LoudnessMeter(rate, 2)
        self._tail: np.ndarray | None = None
        self._written = 0

    def add_shot(self, sound: np.ndarray) -> None:
        """Append the next shot's sound (``(2, n)`` float32, exactly the shot's length)."""
        if self._tail is not None and self.fade:
            ramp = np.linspace(0.0, 1.0, self.fade, dtype=np.float32)
            head = self._tail * (1 - ramp) + sound[:, : self.fade] * ramp
            sound = np.concatenate([head, sound[:, self.fade :]], axis=1)
        keep = min(self.fade, sound.shape[1])
        self._write(sound[:, : sound.shape[1] - keep])
        self._tail = sound[:, sound.shape[1] - keep :]

    def close(self) -> Loudness:
        """Write what is left, flush the encoder; return the loudness of everything written."""
        if self._tail is not None:
            self._write(self._tail)
            self._tail = None
        self._out.mux(self.stream.encode(None))
        return self._meter.result()

    @property
    def seconds(self) -> float:
        return self._written / self.rate

    def _write(self, block: np.ndarray) -> None:
        count = block.shape[1]
        if count == 0:
            return
        start = self._written
        mixed = block * duck_gain(self.voices, start, count, self.duck_db, self.rate)
        mixed = mixed + voice_block(self.voices, start, count)
        mixed = np.ascontiguousarray(mixed, np.float32)
        self._meter.add(mixed)
        step = self.rate // 10
        for lo in range(0, count, step):
            frame = av.AudioFrame.from_ndarray(mixed[:, lo : lo + step], format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = self.rate, start + lo
            self._out.mux(self.stream.encode(frame))
        self._written += count


def shot_sound(frames: list[np.ndarray], lead: int, length: int) -> np.ndarray:
    """A shot's decoded sound as exactly ``length`` stereo samples: ``lead`` samples of silence
    first (audio that starts after the picture), cut or padded with silence at the end."""
    sound = np.zeros((2, length), np.float32)
    at = lead
    for chunk in frames:
        if at >= length:
            break
        take = min(chunk.shape[1], length - at)
        if at + take > 0:
            skip = max(0, -at)
            sound[:, at + skip : at + take] = chunk[:, skip:take]
        at += chunk.shape[1]
    return sound
