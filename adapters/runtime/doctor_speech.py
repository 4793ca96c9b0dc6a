"""``clipdesk doctor``: the explainer narration engine (``CLIPDESK_SPEECH``).

eSpeak NG is checked by speaking one word into a temporary file (in-process, nothing to pay);
OpenAI's text to speech by asking for the configured model (free, no speech is bought).
Narration is optional to a clip (without it, an explainer goes out with captions and a note),
so a broken engine is a warning, never a reason to refuse to start.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from adapters.runtime.doctor import CheckResult, Level, check
from adapters.runtime.settings import Settings

NAME = "speech engine"


def _uses_openai(settings: Settings) -> bool:
    return settings.speech == "openai" or (settings.speech == "auto" and bool(settings.openai_api_key))


@check(lambda settings: settings.speech != "off")
async def check_speech_engine(settings: Settings) -> list[CheckResult]:
    if _uses_openai(settings):
        return [await _openai(settings)]
    return [await asyncio.to_thread(_espeak)]


def _espeak() -> CheckResult:
    from adapters.media.speech import EspeakSynthesizer, SpeechFailed

    try:
        with tempfile.TemporaryDirectory(prefix="clipdesk-doctor-") as folder:
            speech = EspeakSynthesizer().synthesize_now("clipdesk", None, "en", Path(folder) / "probe.wav")
    except (SpeechFailed, OSError) as exc:
        detail = f"eSpeak NG cannot speak ({exc}); explainers get captions only"
        return CheckResult(NAME, Level.WARN, detail, "CLIPDESK_SPEECH")
    return CheckResult(NAME, Level.OK, f"eSpeak NG (keyless) spoke a test word in {speech.seconds:.2f} s")


async def _openai(settings: Settings) -> CheckResult:
    try:
        import openai
    except ImportError:
        return CheckResult(NAME, Level.WARN, "the openai package is missing", "CLIPDESK_SPEECH")
    client = openai.AsyncOpenAI(
        api_key=settings.openai_api_key, base_url=settings.openai_base_url, max_retries=0, timeout=10
    )
    try:
        await client.models.retrieve(settings.speech_model)
    except openai.NotFoundError:
        detail = f"the endpoint has no model {settings.speech_model}; explainers get captions only"
        return CheckResult(NAME, Level.WARN, detail, "CLIPDESK_SPEECH_MODEL")
    except openai.APIError as exc:
        detail = (
            f"OpenAI text to speech is not reachable ({type(exc).__name__}); explainers get captions only"
        )
        return CheckResult(NAME, Level.WARN, detail, "OPENAI_API_KEY")
    finally:
        await client.close()
    return CheckResult(NAME, Level.OK, f"OpenAI {settings.speech_model}, voice {settings.speech_voice}")
