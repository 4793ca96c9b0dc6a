"""Narration by OpenAI's text-to-speech (``client.audio.speech``), voice and model configurable.

The WAV is streamed to disk as it arrives. OpenAI writes a streamed WAV's header before it
knows the length, so the length is read by decoding (PyAV), not from the header. Any API
error is a :class:`SpeechFailed`: the clip is still delivered with captions and a note,
and narration can be retried.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import openai
from openai import AsyncOpenAI

from adapters.media.speech import Speech, SpeechFailed
from bot.ports import SourceType

MODEL, VOICE = "gpt-4o-mini-tts", "alloy"


class OpenAISpeech:
    """:class:`~adapters.media.speech.SpeechSynthesizer` on ``audio.speech.create``.

    Args:
        client: an ``AsyncOpenAI`` (its base URL may point at a gateway).
        model: ``gpt-4o-mini-tts``, ``tts-1``, ``tts-1-hd``, …
        voice: the default voice (``alloy``, ``coral``, …) when a line names none.
        instructions: how to speak ("calm, for 14-year-olds"); not for ``tts-1`` models.
    """

    name = "openai"

    def __init__(
        self, client: AsyncOpenAI, *, model: str = MODEL, voice: str = VOICE, instructions: str | None = None
    ) -> None:
        self.client, self.model, self.voice, self.instructions = client, model, voice, instructions

    async def synthesize(
        self, text: str, *, voice: str | None, language: str, dest: Path, speed: float = 1.0
    ) -> Speech:
        if not text.strip():
            raise SpeechFailed("there is nothing to say")
        chosen = voice or self.voice
        instructions: str | openai.Omit = openai.omit
        if self.instructions and "tts-1" not in self.model:  # the tts-1 models take none
            instructions = self.instructions
        await asyncio.to_thread(dest.parent.mkdir, parents=True, exist_ok=True)
        try:
            async with self.client.audio.speech.with_streaming_response.create(
                model=self.model,
                voice=chosen,
                input=text,
                response_format="wav",
                speed=max(0.25, min(4.0, speed)),
                instructions=instructions,
            ) as response:
                await response.stream_to_file(dest)
        except openai.APIError as exc:
            await asyncio.to_thread(dest.unlink, missing_ok=True)
            raise SpeechFailed(f"OpenAI text-to-speech failed: {exc}") from exc
        seconds = await asyncio.to_thread(decoded_seconds, dest)
        return Speech(dest, seconds, chosen, language, f"openai/{self.model}", SourceType.TRAINED)


def decoded_seconds(path: Path) -> float:
    """The length of an audio file by decoding it to the end."""
    samples, rate = 0, 0
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(audio=0):
                samples += frame.samples
                rate = frame.sample_rate
    except (av.FFmpegError, OSError) as exc:
        raise SpeechFailed(f"the narration from OpenAI is not audio: {exc}") from exc
    if not rate:
        raise SpeechFailed("the narration from OpenAI holds no sound")
    return samples / rate
