"""An explainer's single clip through the post-processor: the voice mixed under it, captions
beside it (or burned in, legibly, in any script), and a clip that still goes out when the voice
cannot be made."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pysubs2
import pytest
from PIL import Image, ImageDraw, ImageFont

from adapters.media.burnin import BAND, WEIGHT, caption_image, caption_position
from adapters.media.captions import cues_for
from adapters.media.explained import captions_only
from adapters.media.factory import ApprovalSealer
from adapters.media.fonts import font_faces
from adapters.media.narration import ScriptLine
from adapters.media.postprocess import MediaPostProcessor
from adapters.media.provenance import create_dev_certificates, read_provenance, sha256_file
from adapters.media.speech import EspeakSynthesizer, Speech, SpeechFailed
from adapters.media.speech_openai import OpenAISpeech
from bot import texts
from bot.domain import Brief, Render, ReplyTarget, RequestOptions, VideoRequest
from bot.errors import MediaError
from bot.explainers import Explainer
from bot.ports import RefineInput
from bot.refiner import OfflineRefiner
from tests.fakes.media import decode_to_end
from tests.fakes.openai import FakeOpenAI
from tests.media.clips import moving, write_clip
from tests.providers.animatic_support import ncc

CHINESE_ASK = "解释层流和湍流的区别"
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def grey_with_a_moving_square(width: int, height: int):  # type: ignore[no-untyped-def]
    """A flat grey picture (so a burned caption can be compared exactly) with a small moving square."""

    def picture(i: int) -> np.ndarray:
        frame = np.full((height, width, 3), 128, np.uint8)
        x = 20 + (i * 9) % (width // 3)
        frame[20:60, x : x + 40] = (230, 60, 40)
        return frame

    return picture


def explainer_brief(text: str, seconds: int) -> Brief:
    brief = OfflineRefiner().refine_now(RefineInput("req_1", 1, text, seconds, "16:9", explainer=True))
    assert isinstance(brief, Brief) and brief.explainer is not None
    return brief


def request_for(captions: str | None = None) -> VideoRequest:
    target = ReplyTarget("console", "local", "c1", "t1")
    return VideoRequest("req_1", target, "U1", "ask", RequestOptions(captions=captions))


def render_for(seconds: int, size: str = "1280x720") -> Render:
    return Render("rnd_1", "req_1", "brf_1", 1, "animatic", "animatic-v1", seconds, size)


def processor(tmp_path: Path, speech: object, *, signed: bool = False) -> MediaPostProcessor:
    creds = create_dev_certificates(tmp_path / "keys") if signed else None
    return MediaPostProcessor(
        tmp_path / "clips",
        watermark_enabled=False,
        speech=speech,  # type: ignore[arg-type]
        cert_chain=creds.signer.cert_chain if creds else None,
        private_key=creds.signer.private_key if creds else None,
    )


def font_own_rendering(text: str, size: tuple[int, int], fill: int) -> np.ndarray:
    """``text`` as a caption band over grey ``fill``, drawn by the CJK font file alone (no font stack)."""
    width, height = size
    band, placed = caption_image(text, width, height)
    face = next(f for f in font_faces() if f.role == "cjk")
    font = ImageFont.truetype(str(face.path), round(height * 0.052), index=face.index)
    with contextlib.suppress(OSError):  # not a variable font: its one weight it is
        font.set_variation_by_axes([WEIGHT])
    frame = Image.new("RGB", size, (fill, fill, fill))
    under = Image.new("RGBA", band.size, BAND)
    ascent = font.getmetrics()[0]
    for line, x, y in placed:
        ImageDraw.Draw(under).text((x, y + ascent), line, fill=(255, 255, 255, 255), font=font, anchor="ls")
    frame.paste(under, caption_position(band, width, height), under)
    return np.asarray(frame.convert("L"), np.float64)


def frame_at(path: Path, seconds: float) -> np.ndarray:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= seconds:
                rgb = Image.fromarray(frame.to_ndarray(format="rgb24"))
                return np.asarray(rgb.convert("L"), np.float64)
    raise AssertionError(f"no frame at {seconds} s")


async def test_a_chinese_explainer_burns_in_legible_captions_not_tofu(tmp_path: Path) -> None:
    brief = explainer_brief(CHINESE_ASK, 8)
    assert brief.explainer is not None and brief.explainer.language == "zh"
    source = write_clip(
        tmp_path / "in.mp4", grey_with_a_moving_square(1280, 720), seconds=8, width=1280, height=720
    )
    post = processor(tmp_path, EspeakSynthesizer())
    try:
        done = await post.process(render_for(8), brief, request_for("burn"), source)
    finally:
        post.close()

    [vtt, _] = done.attachments
    cue = pysubs2.load(str(vtt))[0]
    assert cue.plaintext == "解释层流和湍流的区别。"
    seen = frame_at(done.path, (cue.start + cue.end) / 2000)
    band, _ = caption_image(cue.plaintext, 1280, 720)
    left, top = caption_position(band, 1280, 720)
    box = (slice(top, top + band.height), slice(left, left + band.width))
    own = font_own_rendering(cue.plaintext, (1280, 720), 128)[box]
    tofu = font_own_rendering("\ue000" * len(cue.plaintext), (1280, 720), 128)[box]
    assert ncc(seen[box], own) > 0.9, "the caption is drawn as the CJK font draws it"
    assert ncc(seen[box], tofu) < 0.5, "and not as boxes"
    before = frame_at(done.path, 0.05)  # before the first cue: no band
    assert abs(before[box].mean() - 128) < 3
    with av.open(str(done.path)) as container:
        assert container.streams.audio  # eSpeak NG's Mandarin voice speaks it


async def test_openai_narration_is_a_trained_ingredient_and_captions_lie_inside_the_clip(
    tmp_path: Path,
) -> None:
    brief = explainer_brief("explain laminar vs turbulent flow", 8)
    source = write_clip(tmp_path / "in.mp4", moving(640, 360), seconds=8, width=640, height=360)
    async with FakeOpenAI(tmp_path / "openai") as fake:
        post = processor(tmp_path, OpenAISpeech(fake.client(), voice="nova"), signed=True)
        try:
            done = await post.process(render_for(8, "640x360"), brief, request_for(), source)
        finally:
            post.close()
        assert len(fake.calls_to("POST", "/v1/audio/speech")) == len(brief.shots)

    assert done.findings == ()  # fits its shots, loudness in range, captions inside the clip
    check = read_provenance(done.path, trust_anchors=tmp_path / "keys" / "root.pem")
    assert check.trusted
    assert ("narration of shot 1", TRAINED) in check.placed
    assert decode_to_end(done.path).seconds == pytest.approx(8.0, abs=0.05)
    for path in done.attachments:
        subs = pysubs2.load(str(path))
        assert subs and all(0 <= e.start < e.end <= 8000 for e in subs)
    assert not (tmp_path / "clips" / ".narration" / "rnd_1").exists()  # voice files are cleaned up

    # Approval re-signs the clip (voice included) and its sidecar keeps the captions' hashes.
    creds = create_dev_certificates(tmp_path / "keys2")
    render = replace(render_for(8, "640x360"), clip_path=str(done.path))
    await ApprovalSealer(creds.signer).seal(render, brief, request_for(), "U_LEAD")
    sealed = json.loads(done.path.with_name("rnd_1.provenance.json").read_text())
    assert sealed["approved"] is True and sealed["approver"] == "U_LEAD"
    hashes = {name: digest for c in sealed["captions"] for name, digest in c["sha256"].items()}
    assert hashes == {p.name: sha256_file(p) for p in done.attachments}
    assert [n["shot"] for n in sealed["narration"]] == [1, 2]


async def test_a_tts_failure_still_delivers_the_clip_with_captions_and_a_retry_note(tmp_path: Path) -> None:
    brief = explainer_brief("explain laminar vs turbulent flow", 8)
    source = write_clip(tmp_path / "in.mp4", moving(640, 360), seconds=8, width=640, height=360)
    async with FakeOpenAI(tmp_path / "openai") as fake:
        fake.server_error(times=10, route="audio.speech")
        post = processor(tmp_path, OpenAISpeech(fake.client()))
        try:
            done = await post.process(render_for(8, "640x360"), brief, request_for(), source)
        finally:
            post.close()

    assert done.path.exists() and not done.hard_failure
    assert any("narration could not be made" in n and "Retry narration" in n for n in done.notes)
    [vtt, _] = done.attachments
    assert [e.plaintext for e in pysubs2.load(str(vtt))] == [line for line in brief.explainer.script if line]  # type: ignore[union-attr]
    with av.open(str(done.path)) as container:
        assert not container.streams.audio  # no voice was mixed in


async def test_a_language_without_a_voice_gets_captions_only_with_a_note(tmp_path: Path) -> None:
    brief = explainer_brief("explain tides", 8)
    assert brief.explainer is not None
    brief = replace(brief, explainer=replace(brief.explainer, language="xx"))
    source = write_clip(tmp_path / "in.mp4", moving(640, 360), seconds=8, width=640, height=360)
    post = processor(tmp_path, EspeakSynthesizer())
    try:
        done = await post.process(render_for(8, "640x360"), brief, request_for(), source)
    finally:
        post.close()
    assert done.notes == ("🔇 No voice speaks xx, so this clip has captions only.",)
    assert [p.name for p in done.attachments] == ["rnd_1.xx.vtt", "rnd_1.xx.srt"]


async def test_captions_off_writes_no_files_but_the_voice_still_speaks(tmp_path: Path) -> None:
    brief = explainer_brief("explain tides", 8)
    source = write_clip(tmp_path / "in.mp4", moving(640, 360), seconds=8, width=640, height=360)
    post = processor(tmp_path, EspeakSynthesizer())
    try:
        done = await post.process(render_for(8, "640x360"), brief, request_for("off"), source)
    finally:
        post.close()
    assert done.attachments == () and not list((tmp_path / "clips").glob("*.vtt"))
    with av.open(str(done.path)) as container:
        assert container.streams.audio


def test_captions_only_spans_each_line_over_its_shot() -> None:
    from adapters.media.narrated import spans_of

    narration = captions_only(
        [ScriptLine(1, "One."), ScriptLine(2, ""), ScriptLine(3, "Three.")], spans_of([4, 4, 4])
    )
    assert [(c.start, c.end) for c in cues_for(narration.lines)] == [(0.25, 3.8), (8.25, 11.8)]
    assert Explainer(("a",)).language == "en"


class SwitchableSpeech:
    """eSpeak NG behind a switch: while ``broken`` every line fails, as a TTS outage would."""

    name = "espeak-ng"

    def __init__(self) -> None:
        self.inner = EspeakSynthesizer()
        self.broken = True
        self.calls = 0

    async def synthesize(
        self, text: str, *, voice: str | None, language: str, dest: Path, speed: float = 1.0
    ) -> Speech:
        self.calls += 1
        if self.broken:
            raise SpeechFailed("the TTS service is down")
        return await self.inner.synthesize(text, voice=voice, language=language, dest=dest, speed=speed)


def video_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def loudness_between(path: Path, start: float, end: float) -> float:
    """RMS of the clip's sound between ``start`` and ``end`` seconds (0.0 without sound there)."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return 0.0
        chunks = [
            frame.to_ndarray().astype(np.float64).ravel()
            for frame in container.decode(audio=0)
            if frame.time is not None and start <= frame.time < end
        ]
    samples = np.concatenate(chunks) if chunks else np.zeros(1)
    return float(np.sqrt(np.mean(samples**2)))


async def test_retry_narration_mixes_the_voice_under_the_filed_clip_without_a_new_render(
    tmp_path: Path,
) -> None:
    brief = explainer_brief("explain laminar vs turbulent flow", 8)
    source = write_clip(tmp_path / "in.mp4", moving(640, 360), seconds=8, width=640, height=360)
    speech = SwitchableSpeech()
    post = processor(tmp_path, speech, signed=True)
    try:
        first = await post.process(render_for(8, "640x360"), brief, request_for(), source)
        assert texts.NARRATION_FAILED in first.notes and first.attachments
        silent_picture = video_packets(first.path)
        with av.open(str(first.path)) as container:
            assert not container.streams.audio

        # still down: the filed clip is left as it was
        with pytest.raises(MediaError, match="failed again"):
            await post.renarrate(render_for(8, "640x360"), brief, request_for())
        assert video_packets(first.path) == silent_picture

        speech.broken = False
        again = await post.renarrate(render_for(8, "640x360"), brief, request_for())
    finally:
        post.close()

    assert again.path == first.path and not again.hard_failure
    assert texts.NARRATION_FAILED not in again.notes
    # the provider's picture is copied packet for packet: no new render, only a voice
    assert video_packets(again.path) == silent_picture
    assert decode_to_end(again.path).seconds == pytest.approx(8.0, abs=0.05)
    cues = pysubs2.load(str(again.attachments[0]))
    assert [e.plaintext for e in cues] == [line for line in brief.explainer.script if line]  # type: ignore[union-attr]
    for cue in cues:  # the voice speaks where the captions say it does
        assert loudness_between(again.path, cue.start / 1000, cue.end / 1000) > 0.01
    check = read_provenance(again.path, trust_anchors=tmp_path / "keys" / "root.pem")
    assert check.trusted  # re-signed, with eSpeak's voice as a rule-based ingredient
    assert ("narration of shot 1", f"{TRAINED.rsplit('/', 1)[0]}/algorithmicMedia") in check.placed
    sidecar = json.loads(again.path.with_name("rnd_1.provenance.json").read_text())
    assert sidecar["sha256"] == sha256_file(again.path) == again.provenance_digest
    assert sidecar["narration_retried"] is True
    assert [n["shot"] for n in sidecar["narration"]] == [1, 2]
    assert not (tmp_path / "clips" / ".narration" / "rnd_1").exists()
