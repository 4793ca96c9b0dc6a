"""Text to speech: the keyless eSpeak NG engine, and OpenAI's audio.speech through the real SDK."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from adapters.media.factory import speech_synthesizer
from adapters.media.speech import (
    EspeakSynthesizer,
    SpeechFailed,
    SpeechSynthesizer,
    VoiceUnavailable,
    wav_seconds,
)
from adapters.media.speech_openai import OpenAISpeech
from bot.ports import SourceType
from tests.fakes.openai import FakeOpenAI

LINE = "Laminar flow moves in smooth layers, while turbulent flow swirls and mixes."


def decoded(path: Path) -> tuple[np.ndarray, int]:
    """The file's sound decoded to the end, and its sample rate."""
    with av.open(str(path)) as container:
        frames = list(container.decode(audio=0))
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]), frames[0].sample_rate


def loud_share(samples: np.ndarray, rate: int) -> float:
    """The share of 50 ms windows that are not silent."""
    step = rate // 20
    windows = samples[: len(samples) // step * step].astype(np.float32).reshape(-1, step)
    level = np.sqrt(np.mean(np.square(windows / np.abs(samples).max()), axis=1))
    return float(np.mean(level > 0.05))


async def test_espeak_speaks_a_line_into_a_wav_without_any_key_or_model(tmp_path: Path) -> None:
    engine: SpeechSynthesizer = EspeakSynthesizer()

    speech = await engine.synthesize(LINE, voice=None, language="en", dest=tmp_path / "line.wav")

    samples, rate = decoded(speech.path)
    assert rate == 22050 and len(samples) / rate == pytest.approx(speech.seconds)
    assert speech.seconds == pytest.approx(wav_seconds(speech.path))
    assert 3.0 < speech.seconds < 8.0  # twelve words at a speaking pace
    assert loud_share(samples, rate) > 0.6
    assert (speech.engine, speech.source_type) == ("espeak-ng", SourceType.ALGORITHMIC)


async def test_espeak_speaks_faster_on_request_and_in_other_languages(tmp_path: Path) -> None:
    engine = EspeakSynthesizer()
    normal = await engine.synthesize(LINE, voice=None, language="en", dest=tmp_path / "a.wav")
    quick = await engine.synthesize(LINE, voice=None, language="en", dest=tmp_path / "b.wav", speed=1.3)
    chinese = await engine.synthesize("层流是平滑的", voice=None, language="zh-CN", dest=tmp_path / "c.wav")

    assert quick.seconds < 0.85 * normal.seconds
    assert chinese.voice == "cmn" and chinese.seconds > 0.8


async def test_espeak_without_a_voice_for_the_language_or_text_says_so(tmp_path: Path) -> None:
    engine = EspeakSynthesizer()
    with pytest.raises(VoiceUnavailable, match="no voice for 'xx'"):
        await engine.synthesize(LINE, voice=None, language="xx", dest=tmp_path / "x.wav")
    with pytest.raises(SpeechFailed, match="nothing to say"):
        await engine.synthesize("  ", voice=None, language="en", dest=tmp_path / "y.wav")


async def test_openai_speech_streams_a_wav_with_the_configured_model_and_voice(tmp_path: Path) -> None:
    async with FakeOpenAI(tmp_path) as fake:
        engine = OpenAISpeech(fake.client(), model="gpt-4o-mini-tts", voice="coral", instructions="calm")

        speech = await engine.synthesize(
            LINE, voice=None, language="en", dest=tmp_path / "line.wav", speed=1.2
        )

        [call] = fake.calls_to("POST", "/v1/audio/speech")
    assert call.body == {
        "input": LINE,
        "model": "gpt-4o-mini-tts",
        "voice": "coral",
        "response_format": "wav",
        "speed": 1.2,
        "instructions": "calm",
    }
    samples, rate = decoded(speech.path)
    assert rate == 24000 and speech.seconds == pytest.approx(12 / (2.6 * 1.2), abs=0.01)
    assert loud_share(samples, rate) > 0.6
    assert (speech.engine, speech.source_type) == ("openai/gpt-4o-mini-tts", SourceType.TRAINED)


async def test_openai_speech_failures_are_speech_failures_and_leave_no_file(tmp_path: Path) -> None:
    async with FakeOpenAI(tmp_path) as fake:
        fake.server_error(route="audio.speech")
        engine = OpenAISpeech(fake.client(), model="tts-1", voice="nova", instructions="ignored by tts-1")
        with pytest.raises(SpeechFailed, match="OpenAI text-to-speech failed"):
            await engine.synthesize(LINE, voice=None, language="en", dest=tmp_path / "a.wav")
        with pytest.raises(SpeechFailed, match="Invalid voice"):
            await engine.synthesize(LINE, voice="robot", language="en", dest=tmp_path / "b.wav")
        ok = await engine.synthesize("Hello there.", voice=None, language="en", dest=tmp_path / "c.wav")
        assert "instructions" not in fake.calls_to("POST", "/v1/audio/speech")[-1].body
    assert not (tmp_path / "a.wav").exists() and not (tmp_path / "b.wav").exists()
    assert ok.seconds > 0.5


async def test_the_engine_is_espeak_without_a_client_and_openai_with_one(tmp_path: Path) -> None:
    assert isinstance(speech_synthesizer(), EspeakSynthesizer)
    async with FakeOpenAI(tmp_path) as fake:
        engine = speech_synthesizer("auto", client=fake.client(), voice="sage")
        assert (
            isinstance(engine, OpenAISpeech) and engine.voice == "sage" and engine.model == "gpt-4o-mini-tts"
        )
    with pytest.raises(ValueError, match="needs an OpenAI client"):
        speech_synthesizer("openai")
    with pytest.raises(ValueError, match="unknown speech engine 'festival'"):
        speech_synthesizer("festival")
