"""Parse the text of ``/video``: flags (``--seconds 8``) and plain phrases ("vertical", "12 seconds").

Parsing only reads what the user wrote; :mod:`bot.planner` then checks the
values against what the chosen provider can make.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace

from bot import texts
from bot.domain import RequestOptions
from bot.errors import EmptyRequest, InvalidOptions
from bot.text_input import clean_text

ASPECTS = ("16:9", "9:16", "1:1")
QUALITIES = ("standard", "high")
MAX_VARIANTS = 4

_ASPECT_WORDS = {
    "vertical": "9:16",
    "portrait": "9:16",
    "tall": "9:16",
    "story": "9:16",
    "reel": "9:16",
    "horizontal": "16:9",
    "landscape": "16:9",
    "widescreen": "16:9",
    "square": "1:1",
}
_ASPECT_ALIASES = {"9x16": "9:16", "16x9": "16:9", "1x1": "1:1", "720x1280": "9:16", "1280x720": "16:9"}
_SECONDS_PHRASE = re.compile(r"\b(\d{1,3})\s*(?:-\s*)?(?:s|sec|secs|second|seconds)\b", re.IGNORECASE)
_ASPECT_PHRASE = re.compile(r"\b(16:9|9:16|1:1)\b")
_WORD_PHRASE = re.compile(r"\b(" + "|".join(_ASPECT_WORDS) + r")\b", re.IGNORECASE)
_FLAG = re.compile(r"^--?([a-z][a-z-]*)(?:=(.*))?$")
_KNOWN_FLAGS = {
    "seconds",
    "duration",
    "aspect",
    "provider",
    "model",
    "variants",
    "quality",
    "audience",
    "captions",
    "shots",
    "draft",
}
_SWITCHES = {"draft"}  # flags without a value
MAX_SHOTS = 24
_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$", re.IGNORECASE)
MAX_AUDIENCE_CHARS = 80


@dataclass(frozen=True)
class ParsedAsk:
    """The user's words (without flags) and the options they set."""

    text: str
    options: RequestOptions


def _flag_value(name: str, raw: str | None) -> tuple[str, str]:
    # "--seconds 8, square": the comma belongs to the sentence, not to the value.
    raw = raw.rstrip(",;.") if raw is not None else None
    if raw is None or raw == "":
        raise InvalidOptions(texts.option_needs_value(name, _EXAMPLES[name]))
    return name, raw


_EXAMPLES = {
    "seconds": "--seconds 8",
    "duration": "--seconds 8",
    "aspect": "--aspect 9:16",
    "provider": "--provider animatic",
    "model": "--model sora-2",
    "variants": "--variants 2",
    "quality": "--quality high",
    "audience": '--audience "age 14"',
    "captions": "--captions burn",
    "shots": "--shots 4",
}


# What shlex treats specially (quotes, escapes) and what it splits on, in POSIX mode.
_SHLEX_SPECIAL = re.compile(r"[\"'\\]")
_SHLEX_SPACE = re.compile(r"[ \t\r\n]+")


def _tokens(text: str) -> list[str]:
    if not _SHLEX_SPECIAL.search(text):
        # Exactly shlex.split's answer for text without quotes or escapes, at a tenth of its cost
        # (shlex reads a character at a time; most asks have no quotes).
        return [token for token in _SHLEX_SPACE.split(text) if token]
    try:
        return shlex.split(text)
    except ValueError:
        # An unbalanced quote is common in prose ("our team's bottle"); fall back to spaces.
        return text.split()


def parse_ask(text: str, *, given: RequestOptions | None = None) -> ParsedAsk:
    """Split an ask's free text into its words and the options it states; raise on bad values.

    Args:
        text: What the user wrote (``--seconds 8`` flags and plain phrases such as "vertical").
        given: Options the entry point already has in typed form (Discord's options, CLI flags,
            the REST API); they win over what the text says.
    """
    text = clean_text(text, what="ask")
    if not text:
        raise EmptyRequest(texts.EMPTY_ASK)
    flags: dict[str, str] = {}
    words: list[str] = []
    tokens = _tokens(text)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        match = _FLAG.match(token)
        if match and token.startswith("--"):
            name, inline = match.group(1), match.group(2)
            if name not in _KNOWN_FLAGS:
                raise InvalidOptions(texts.unknown_option(name, sorted(_KNOWN_FLAGS - {"duration"})))
            if name in _SWITCHES:
                flags[name] = inline or "true"
                i += 1
                continue
            if inline is None and i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
                inline = tokens[i + 1]
                i += 1
            key, value = _flag_value(name, inline)
            flags["seconds" if key == "duration" else key] = value
        else:
            words.append(token)
        i += 1

    prose = " ".join(words)
    if not _has_content(prose):
        raise EmptyRequest(texts.NO_CONTENT)
    stated = RequestOptions(
        seconds=_parse_seconds(flags.get("seconds"), prose),
        aspect=_parse_aspect(flags.get("aspect"), prose),
        provider=flags.get("provider", "").strip().lower() or None,
        model=flags.get("model", "").strip() or None,
        variants=_parse_variants(flags.get("variants")),
        quality=_parse_quality(flags.get("quality")),
        audience=flags.get("audience", "").strip() or None,
        captions=flags.get("captions", "").strip() or None,
        shots=_parse_shots(flags.get("shots")),
        draft=True if flags.get("draft", "").lower() in ("true", "yes", "1") else None,
    )
    options = given.merged_over(stated) if given is not None else stated
    return ParsedAsk(text=prose.strip(), options=check_options(options))


def check_options(options: RequestOptions) -> RequestOptions:
    """Refuse typed option values no provider could honour (the planner checks the rest)."""
    if options.aspect is not None and options.aspect not in ASPECTS:
        raise InvalidOptions(texts.bad_aspect(options.aspect, ASPECTS))
    if not 1 <= options.variants <= MAX_VARIANTS:
        raise InvalidOptions(texts.bad_variants(str(options.variants), MAX_VARIANTS))
    if options.quality not in QUALITIES:
        raise InvalidOptions(texts.bad_quality(options.quality, QUALITIES))
    if options.seconds is not None and options.seconds <= 0:
        raise InvalidOptions(texts.bad_seconds(str(options.seconds)))
    if options.captions is not None:
        captions = options.captions.strip()
        if captions.lower() in ("on", "burn", "off"):
            captions = captions.lower()
        elif not _LANGUAGE_TAG.match(captions):
            raise InvalidOptions(texts.bad_captions(options.captions))
        options = replace(options, captions=captions)
    if options.audience is not None:
        audience = " ".join(options.audience.split())[:MAX_AUDIENCE_CHARS]
        options = replace(options, audience=audience or None)
    return options


def _has_content(prose: str) -> bool:
    """True when the prose has at least one letter or digit of any script (emoji alone is not an ask)."""
    return any(ch.isalnum() for ch in prose)


def _parse_seconds(flag: str | None, prose: str) -> int | None:
    if flag is not None:
        raw = flag.lower().rstrip("s").strip()
        if not raw.isdigit():
            raise InvalidOptions(texts.bad_seconds(flag))
        return int(raw)
    match = _SECONDS_PHRASE.search(prose)
    return int(match.group(1)) if match else None


def _parse_aspect(flag: str | None, prose: str) -> str | None:
    if flag is not None:
        value = _ASPECT_ALIASES.get(flag.lower(), _ASPECT_WORDS.get(flag.lower(), flag))
        if value not in ASPECTS:
            raise InvalidOptions(texts.bad_aspect(flag, ASPECTS))
        return value
    match = _ASPECT_PHRASE.search(prose)
    if match:
        return match.group(1)
    word = _WORD_PHRASE.search(prose)
    return _ASPECT_WORDS[word.group(1).lower()] if word else None


def _parse_variants(flag: str | None) -> int:
    if flag is None:
        return 1
    if not flag.isdigit() or not 1 <= int(flag) <= MAX_VARIANTS:
        raise InvalidOptions(texts.bad_variants(flag, MAX_VARIANTS))
    return int(flag)


def _parse_quality(flag: str | None) -> str:
    if flag is None:
        return "standard"
    if flag.lower() not in QUALITIES:
        raise InvalidOptions(texts.bad_quality(flag, QUALITIES))
    return flag.lower()


def _parse_shots(flag: str | None) -> int | None:
    if flag is None:
        return None
    if not flag.isdigit() or not 1 <= int(flag) <= MAX_SHOTS:
        raise InvalidOptions(texts.bad_shots(int(flag) if flag.isdigit() else 0, MAX_SHOTS))
    return int(flag)
