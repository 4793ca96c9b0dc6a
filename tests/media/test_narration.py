"""Narration: a voice per shot mixed under the cut, captions from its timings, and their checks."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pysubs2
import pytest

from adapters.media.captions import TimedLine, check_captions, cues_for, write_captions
from adapters.media.cut import CutJob
from adapters.media.loudness import Loudness
from adapters.media.narration import (
    CLIPPING,
    LOUDNESS,
    NARRATION_FIT,
    ScriptLine,
    check_mix,
    narrate,
)
from adapters.media.postprocess import MediaPostProcessor
from adapters.media.provenance import ProvenanceFacts, create_dev_certificates, read_provenance
from adapters.media.speech import EspeakSynthesizer
from adapters.media.speech_openai import OpenAISpeech
from adapters.media.stitch import ShotClip, StitchOptions, planned_spans, stitch
from bot.ports import SourceType
from tests.fakes.media import decode_to_end
from tests.fakes.openai import FakeOpenAI
from tests.media.clips import moving, write_clip

SCRIPT = (
    ScriptLine(1, "Laminar flow moves in smooth layers."),
    ScriptLine(2, "Turbulent flow swirls and mixes."),
    ScriptLine(3, "Which one is in your tap?"),
)


def three_shots(folder: Path) -> list[ShotClip]:
    """Three 3 s shots; only the middle one has sound of its own (a 440 Hz tone)."""
    return [
        ShotClip(write_clip(folder / "s1.mp4", moving(), seconds=3), 1, 3.0),
        ShotClip(write_clip(folder / "s2.mp4", moving(), seconds=3, audio=True), 2, 3.0),
        ShotClip(write_clip(folder / "s3.mp4", moving(), seconds=3), 3, 3.0),
    ]


def decoded_sound(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)])


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples))))


def tone_level(samples: np.ndarray, rate: int = 48000, hz: float = 440.0) -> float:
    """The amplitude of one frequency in a stretch of sound."""
    t = np.arange(len(samples)) / rate
    return float(2 * np.abs(np.mean(samples * np.exp(-2j * np.pi * hz * t))))


async def test_a_narrated_cut_speaks_each_line_in_its_shot_and_ducks_the_shot_sound(tmp_path: Path) -> None:
    shots = three_shots(tmp_path)
    spans = planned_spans(shots)
    narration = await narrate(SCRIPT, spans, EspeakSynthesizer(), tmp_path / "voice")

    cut = stitch(shots, tmp_path / "cut.mp4", StitchOptions(narration=narration.voices))

    assert decode_to_end(cut.path).seconds == pytest.approx(9.0, abs=1e-6)
    sound = decoded_sound(cut.path)
    assert len(sound) / 48000 == pytest.approx(9.0, abs=0.05)
    for line in narration.lines:  # speech where the script speaks, each inside its own shot
        span = spans[line.shot - 1]
        assert span.start < line.start < line.end <= span.end
        assert rms(sound[round(line.start * 48000) : round(line.end * 48000)]) > 0.02
    first = narration.lines[0]
    assert rms(sound[round((first.end + 0.1) * 48000) : round(2.95 * 48000)]) < 0.003  # a pause is quiet
    # the middle shot's own tone carries on alone before the voice, and dips under it
    alone = tone_level(sound[round(3.02 * 48000) : round(3.1 * 48000)])
    under = tone_level(sound[round((narration.lines[1].start + 0.4) * 48000) : round(5.0 * 48000)])
    assert alone > 0.1 and under < 0.4 * alone
    assert narration.findings == () and check_mix(cut.loudness, narrated=True) == []
    assert cut.loudness is not None and -20 <= cut.loudness.integrated <= -12


async def test_captions_follow_the_voice_and_lie_inside_the_clip(tmp_path: Path) -> None:
    shots = three_shots(tmp_path)
    narration = await narrate(SCRIPT, planned_spans(shots), EspeakSynthesizer(), tmp_path / "voice")

    captions = write_captions(narration.cues(), tmp_path / "cut", language="en")

    for path in (captions.vtt, captions.srt):
        subs = pysubs2.load(str(path))
        assert " ".join(e.plaintext.replace("\n", " ") for e in subs) == " ".join(s.text for s in SCRIPT)
        assert all(0 <= e.start < e.end <= 9000 for e in subs)
    assert captions.vtt.read_text().startswith("WEBVTT")
    assert check_captions(captions.cues, 9.0) == []
    late = check_captions(captions.cues, 5.0)  # the same cues on a clip cut short
    assert late and all(f.kind == "captions" and f.start >= 3.0 for f in late)


async def test_a_line_too_long_for_its_shot_is_sped_up_or_reported_never_cut(tmp_path: Path) -> None:
    shots = [ShotClip(write_clip(tmp_path / f"s{i}.mp4", moving(), seconds=2), i, 2.0) for i in (1, 2)]
    spans = planned_spans(shots)
    script = [
        ScriptLine(1, "Water flows smoothly in layers here."),  # a little long: spoken faster
        ScriptLine(2, "This sentence is far too long to be spoken inside a two second shot, however fast."),
    ]

    narration = await narrate(script, spans, EspeakSynthesizer(), tmp_path / "voice")

    first, second = narration.speeches
    assert first.seconds <= 2.0 - 0.25
    [overrun] = narration.findings
    assert overrun.kind == NARRATION_FIT and overrun.message.startswith("the narration of shot 2 runs")
    assert second.seconds > 2.0  # spoken whole, not clipped


async def test_a_language_without_a_voice_gets_captions_only_and_a_note(tmp_path: Path) -> None:
    shots = three_shots(tmp_path)

    spans = planned_spans(shots)
    narration = await narrate(SCRIPT, spans, EspeakSynthesizer(), tmp_path / "v", language="xx")

    assert narration.voices == () and narration.note is not None and "No voice speaks xx" in narration.note
    assert [(line.shot, line.start, line.end) for line in narration.lines] == [
        (1, 0.25, 2.8),
        (2, 3.25, 5.8),
        (3, 6.25, 8.8),
    ]


def test_the_mix_check_flags_quiet_loud_and_clipped_sound() -> None:
    assert [f.kind for f in check_mix(Loudness(-30.0, -12.0, 0.0, 9.0), narrated=True)] == [LOUDNESS]
    assert "too loud" in check_mix(Loudness(-6.0, 0.0, 0.0, 9.0), narrated=True)[0].message
    assert [f.kind for f in check_mix(Loudness(-16.0, 0.0, 0.01, 9.0), narrated=True)] == [CLIPPING]
    assert check_mix(Loudness(-30.0, -12.0, 0.0, 9.0), narrated=False) == []  # a provider's quiet ambience


def test_long_lines_become_balanced_two_line_cues() -> None:
    text = "Turbulent flow swirls, mixes and changes all the time, as you can see in a river after rain."
    chinese = "层流是平滑的，湍流是混乱的，我们每天都能看到。"
    cues = cues_for([TimedLine(1, text, 1.0, 7.0), TimedLine(2, chinese, 8.0, 12.0)])
    assert all(len(cue.text.split("\n")) <= 2 for cue in cues)
    assert all(max(len(row) for row in cue.text.split("\n")) <= 42 for cue in cues)
    assert min(len(cue.text) for cue in cues) > 10  # no lone word in a cue of its own
    assert cues[0].start == 1.0 and cues[-1].end == 12.0


async def test_a_narrated_cut_is_signed_with_its_shots_and_voices_as_ingredients(tmp_path: Path) -> None:
    creds = create_dev_certificates(tmp_path / "keys")
    shots = three_shots(tmp_path)
    post = MediaPostProcessor(
        tmp_path / "clips", cert_chain=creds.signer.cert_chain, private_key=creds.signer.private_key
    )
    async with FakeOpenAI(tmp_path) as fake:
        voice = OpenAISpeech(fake.client(), voice="coral")
        narration = await narrate(SCRIPT, planned_spans(shots), voice, tmp_path / "voice")
    facts = ProvenanceFacts("cut_1", "req_1", "veo", "veo-3.1", "digest", 1, "U1")
    dest = tmp_path / "clips" / "cut_1.mp4"
    job = CutJob(facts, tuple(shots), dest, 9.0, {1: "veo/veo-3.1"}, narration=narration)
    try:
        done = await post.process_cut(job)
    finally:
        post.close()

    assert done.findings == () and not done.hard_failure
    assert decode_to_end(done.path).seconds == pytest.approx(9.0, abs=1e-6)
    check = read_provenance(done.path, trust_anchors=creds.root)
    assert check.trusted
    assert check.ingredients[:3] == ("shot 1", "shot 2", "shot 3") and len(check.ingredients) == 6
    trained = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    assert ("narration of shot 2", trained) in check.placed
    assert done.captions is not None and done.captions.vtt.exists() and done.captions.srt.exists()
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == [
        "cut_1.en.srt",
        "cut_1.en.vtt",
        "cut_1.mp4",
        "cut_1.provenance.json",
    ]
    assert all(s.path.exists() for s in shots)  # kept for cut v2
    assert facts.source_type == SourceType.TRAINED
