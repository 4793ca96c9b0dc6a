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
from PIL import Image

from adapters.media.captions import Cue
from adapters.media.encoding import Demux, add_h264, planes_frame, reason_of, yuv_planes
from adapters.media.fonts import load_fonts
from adapters.media.loudness import Loudness
from adapters.media.soundtrack import RATE, Soundtrack, load_voice, shot_sound
from adapters.media.stitch import ShotSpan, VoiceLine
from adapters.media.watermark import YuvMark
from bot.errors import MediaError

BAND = (0, 0, 0, 170)  # the band behind burned captions: legible on any picture
TEXT_SHARE = 0.052  # caption text height as a share of the picture's height


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
    overlays: dict[int, YuvMark] = {}
    frames = 0
    for item in Demux(container, [video]):
        if not isinstance(item, av.VideoFrame):
            continue
        planes = yuv_planes(item)
        at = float(item.time) if item.time is not None else frames / float(rate)
        shown = next((i for i, cue in enumerate(cues) if cue.start <= at < cue.end), None)
        if shown is not None:
            if shown not in overlays:
                overlays[shown] = caption_overlay(cues[shown].text, width, height)
            overlays[shown].blend(planes, width, height)
        pts = item.pts if item.pts is not None else round(frames / float(rate) / float(time_base))
        out.mux(stream.encode(planes_frame(planes, pts, item.time_base or time_base)))
        frames += 1
    out.mux(stream.encode(None))


def caption_image(text: str, width: int, height: int) -> tuple[Image.Image, list[tuple[str, int, int]]]:
    """A cue drawn as the viewer sees it: white lines on a dark band, centred; and where each line went."""
    fonts = load_fonts(max(14, round(height * TEXT_SHARE)), 600)
    lines = [part for row in text.split("\n") for part in fonts.wrap(row, width * 0.86)]
    pad = fonts.size // 2
    band_w = min(width, round(max(fonts.measure(line) for line in lines)) + 2 * pad)
    band_h = fonts.line_height * len(lines) + pad
    image = Image.new("RGBA", (band_w, band_h), BAND)
    placed = []
    for i, line in enumerate(lines):
        x = round((band_w - fonts.measure(line)) / 2)
        y = pad // 2 + i * fonts.line_height
        fonts.draw(image, (x, y), line)
        placed.append((line, x, y))
    return image, placed


def caption_position(band: Image.Image, width: int, height: int) -> tuple[int, int]:
    """Where a caption band goes: centred, above the bottom edge (and the watermark's row)."""
    left = max(0, (width - band.width) // 2)
    top = max(0, height - band.height - round(height * 0.09))
    return left - left % 2, top - top % 2


def caption_overlay(text: str, width: int, height: int) -> YuvMark:
    """The cue as YUV planes to blend into frames (the watermark's blending, placed at the bottom)."""
    band, _ = caption_image(text, width, height)
    overlay = YuvMark(band, width, height, "bottom-left", height >= 720)
    overlay.left, overlay.top = caption_position(band, width, height)
    return overlay
