"""Narration on a finished single clip: the voice mixed under the clip's own sound, shot by shot,
and (on request) the captions burned into the picture.

A single clip's shots are not separate files (the provider made one clip from the brief's
shot list), so each voice line is placed at its shot's start in the brief's timing. The clip's
own sound, or silence where it has none, is ducked under the voice with the same gain curve
a stitched cut uses (:mod:`adapters.media.soundtrack`), and the mix is metered for loudness as
it is encoded. Without burned captions the picture is copied packet for packet (no second
encode); with them it is decoded once, each cue drawn with the Noto font stack (Latin, CJK,
emoji) on a dark band, and encoded with the encoder every pass shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from adapters.media.burnin import CaptionBurner
from adapters.media.captions import Cue
from adapters.media.encoding import Demux, add_h264, planes_frame, reason_of, yuv_planes
from adapters.media.loudness import Loudness
from adapters.media.soundtrack import RATE, Soundtrack, load_voice, shot_sound
from adapters.media.stitch import ShotSpan, VoiceLine
from bot.errors import MediaError


def spans_of(seconds: Sequence[float]) -> tuple[ShotSpan, ...]:
    """Where each shot of a brief sits in a single clip made from its shot list."""
    spans, at = [], 0.0
    for index, length in enumerate(seconds, start=1):
        spans.append(ShotSpan(index, round(at, 3), round(at + length, 3)))
        at += length
    return tuple(spans)


def mix_narration(
    source: Path,
    dest: Path,
    voices: Sequence[VoiceLine],
    spans: Mapping[int, ShotSpan],
    *,
    seconds: float,
    burn: Sequence[Cue] = (),
) -> Loudness:
    """Write ``source`` with ``voices`` mixed under its sound (and ``burn`` drawn in) to ``dest``.

    Args:
        voices: the narration lines from :func:`adapters.media.narration.narrate`.
        spans: where each shot sits in the clip (:func:`spans_of`).
        seconds: the clip's decoded length; the sound track lasts exactly this long.
        burn: caption cues to draw into the picture (empty: the picture is copied as is).

    Raises:
        MediaError: a voice or the clip cannot be read, or encoding failed.
    """
    placed = [load_voice(v.path, v.shot, spans[v.shot].start + v.offset) for v in voices]
    try:
        with av.open(str(source)) as container:
            sound = _sound_of(container, round(seconds * RATE))
        with (
            av.open(str(source)) as container,
            av.open(str(dest), mode="w", format="mp4", options={"movflags": "+faststart"}) as out,
        ):
            if not container.streams.video:
                raise MediaError(f"the clip {source.name} has no video stream")
            video = container.streams.video[0]
            track = Soundtrack(out, placed)
            if burn:
                _burn(container, video, out, burn)
            else:
                copied = out.add_stream_from_template(video)
                for packet in container.demux(video):
                    if packet.dts is not None:
                        packet.stream = copied
                        out.mux(packet)
            track.add_shot(sound)
            return track.close()
    except av.FFmpegError as exc:
        dest.unlink(missing_ok=True)
        raise MediaError(f"mixing the narration into {source.name} failed: {reason_of(exc)}") from exc


def _sound_of(container: av.container.InputContainer, length: int) -> np.ndarray:
    """The clip's own sound as ``length`` stereo float samples at :data:`RATE` (silence if none)."""
    if not container.streams.audio:
        return np.zeros((2, length), np.float32)
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
    chunks: list[np.ndarray] = []
    lead = 0
    for frame in container.decode(stream):
        if not chunks and frame.time is not None and frame.time > 0:
            lead = round(frame.time * RATE)  # sound that starts after the picture
        chunks.extend(f.to_ndarray() for f in resampler.resample(frame))
    chunks.extend(f.to_ndarray() for f in resampler.resample(None))
    return shot_sound(chunks, lead, length)


def _burn(
    container: av.container.InputContainer,
    video: av.VideoStream,
    out: av.container.OutputContainer,
    cues: Sequence[Cue],
) -> None:
    width, height = video.codec_context.width, video.codec_context.height
    rate = video.average_rate or video.guessed_rate or 24
    time_base = video.time_base or Fraction(1, 90000)
    stream = add_h264(out, width, height, rate, time_base)
    video.thread_type = "AUTO"
    burner = CaptionBurner(cues, width, height)
    frames = 0
    for item in Demux(container, [video]):
        if not isinstance(item, av.VideoFrame):
            continue
        planes = yuv_planes(item)
        burner.blend(planes, float(item.time) if item.time is not None else frames / float(rate))
        pts = item.pts if item.pts is not None else round(frames / float(rate) / float(time_base))
        out.mux(stream.encode(planes_frame(planes, pts, item.time_base or time_base)))
        frames += 1
    out.mux(stream.encode(None))
