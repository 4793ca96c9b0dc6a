"""Text to speech: the port narration needs, and the keyless default engine, eSpeak NG.

eSpeak NG is a formant synthesizer: rules and recorded phoneme data, no trained model
and nothing to download, with voices for about a hundred languages. The library and
its data come from the ``espeakng-loader`` wheel (a registry package, so a fresh
machine has it after ``pip install``); a system ``libespeak-ng`` (Debian's
``espeak-ng``) is used where the wheel is missing. It is driven in-process through
ctypes, synchronously, from a worker thread: the library keeps global state, so one
lock serialises its use. Its speech is labelled ``algorithmicMedia`` in C2PA (no
trained model made it); a TTS model's speech (OpenAI) is ``trainedAlgorithmicMedia``.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import importlib
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from bot.errors import MediaError
from bot.ports import SourceType

WORDS_PER_MINUTE = 165  # eSpeak's default 175 is brisk for a classroom
# BCP 47 tags whose eSpeak voice has another name
ESPEAK_VOICES = {"zh": "cmn", "zh-cn": "cmn", "zh-hans": "cmn", "zh-tw": "cmn", "zh-hant": "cmn", "no": "nb"}


@dataclass(frozen=True)
class Speech:
    """A synthesized line: a WAV file and what made it (for C2PA and the sidecar)."""

    path: Path
    seconds: float
    voice: str
    language: str
    engine: str  # "espeak-ng", "openai/gpt-4o-mini-tts"
    source_type: SourceType


class SpeechFailed(MediaError):
    """The engine could not speak this time (a system error): deliver captions, offer a retry."""


class VoiceUnavailable(SpeechFailed):
    """No voice speaks this language: the clip gets captions only, with a note."""


@runtime_checkable
class SpeechSynthesizer(Protocol):
    """Speaks one line of a script into a WAV file."""

    name: str

    async def synthesize(
        self, text: str, *, voice: str | None, language: str, dest: Path, speed: float = 1.0
    ) -> Speech:
        """Write ``text`` spoken in ``language`` to ``dest`` (WAV).

        Args:
            voice: an engine-specific voice name, or ``None`` for the language's default.
            language: a BCP 47 tag ("en", "es", "zh-CN").
            speed: 1.0 is the engine's natural pace; narration that overruns its shot is
                spoken again a little faster.

        Raises:
            VoiceUnavailable: no voice for ``language``.
            SpeechFailed: the engine failed.
        """
        ...


def wav_seconds(path: Path) -> float:
    """The length of a WAV file whose header is complete."""
    with wave.open(str(path), "rb") as reader:
        return reader.getnframes() / float(reader.getframerate())


# ------------------------------------------------------------------------ eSpeak NG

_SYNCHRONOUS, _CHARS_UTF8, _RATE = 2, 1, 1  # espeak_AUDIO_OUTPUT, espeakCHARS_UTF8, espeakRATE
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Espeak:
    """The loaded library, initialised once per process."""

    lock = threading.Lock()
    instance: _Espeak | None = None

    def __init__(self) -> None:
        library, data = _locate()
        self.lib = ctypes.CDLL(library)
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self.rate = int(self.lib.espeak_Initialize(_SYNCHRONOUS, 0, data.encode() if data else None, 0))
        if self.rate <= 0:
            raise SpeechFailed(f"eSpeak NG did not start (its data folder: {data or 'the default'})")
        self.chunks: list[np.ndarray] = []
        self.callback = _CALLBACK(self._collect)  # kept on self: the library holds only a raw pointer
        self.lib.espeak_SetSynthCallback(self.callback)

    @classmethod
    def get(cls) -> _Espeak:
        if cls.instance is None:
            cls.instance = cls()
        return cls.instance

    def _collect(self, wav: Any, count: int, events: Any) -> int:
        if count > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0  # go on

    def speak(self, text: str, voices: list[str], speed: float) -> tuple[np.ndarray, str]:
        chosen = next((v for v in voices if self.lib.espeak_SetVoiceByName(v.encode()) == 0), None)
        if chosen is None:
            raise VoiceUnavailable(f"eSpeak NG has no voice for {voices[0]!r}")
        self.lib.espeak_SetParameter(_RATE, max(80, min(450, round(WORDS_PER_MINUTE * speed))), 0)
        self.chunks = []
        data = text.encode("utf-8")
        status = self.lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, _CHARS_UTF8, None, None)
        if status != 0:
            raise SpeechFailed(f"eSpeak NG refused the text (error {status})")
        self.lib.espeak_Synchronize()
        samples = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
        return samples.astype(np.int16), chosen


def _locate() -> tuple[str, str | None]:
    """The library and data folder: the ``espeakng-loader`` wheel's, else the system's."""
    try:
        loader: Any = importlib.import_module("espeakng_loader")
        return str(loader.get_library_path()), str(loader.get_data_path())
    except (ImportError, RuntimeError, OSError):
        pass
    system = ctypes.util.find_library("espeak-ng")
    if system is None:
        raise SpeechFailed("no eSpeak NG: pip install espeakng-loader, or apt-get install espeak-ng")
    return system, None


def espeak_voices(language: str, voice: str | None) -> list[str]:
    """eSpeak voice names to try for a BCP 47 tag, most specific first."""
    tag = language.strip().lower().replace("_", "-")
    primary = tag.split("-")[0]
    names = [voice] if voice else []
    names += [ESPEAK_VOICES.get(tag, tag), ESPEAK_VOICES.get(primary, primary)]
    return list(dict.fromkeys(n for n in names if n))


class EspeakSynthesizer:
    """:class:`SpeechSynthesizer` on eSpeak NG: keyless, offline, about a hundred languages."""

    name = "espeak-ng"

    async def synthesize(
        self, text: str, *, voice: str | None, language: str, dest: Path, speed: float = 1.0
    ) -> Speech:
        return await asyncio.to_thread(self.synthesize_now, text, voice, language, dest, speed)

    def synthesize_now(
        self, text: str, voice: str | None, language: str, dest: Path, speed: float = 1.0
    ) -> Speech:
        """The blocking work of :meth:`synthesize`."""
        if not text.strip():
            raise SpeechFailed("there is nothing to say")
        with _Espeak.lock:
            engine = _Espeak.get()
            samples, chosen = engine.speak(text, espeak_voices(language, voice), speed)
            rate = engine.rate
        if not samples.size:
            raise SpeechFailed(f"eSpeak NG made no sound for {text[:40]!r}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(dest), "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(rate)
            writer.writeframes(samples.tobytes())
        return Speech(dest, len(samples) / rate, chosen, language, self.name, SourceType.ALGORITHMIC)
