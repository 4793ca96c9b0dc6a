"""The offline prompt refiner: a deterministic brief writer that needs no key and no network.

It recognises the kind of video (product demo, explainer, advert, tutorial,
story), the subject and the setting, and writes a shot list of one shot per
about four seconds with camera, lighting and style chosen to suit the kind.
The same words always give the same brief, so tests and the embedded default
are repeatable.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot.domain import Brief, Shot
from bot.explainer_outline import _outline_picture, key_terms, outline
from bot.explainers import is_explainer_ask
from bot.ports import Clarification, RefineInput

SECONDS_PER_SHOT = 4.0
NEGATIVE_PROMPT = (
    "text artifacts, garbled lettering, watermarks from other sources, extra limbs, "
    "distorted hands, flicker, low resolution, motion smear, logos of real brands"
)


@dataclass(frozen=True)
class _Genre:
    name: str
    keywords: tuple[str, ...]
    style: str
    lighting: str
    setting: str
    beats: tuple[str, ...]
    cameras: tuple[str, ...]
    connector: str = "of"


_GENRES: tuple[_Genre, ...] = (
    _Genre(
        "product demo",
        ("product", "demo", "bottle", "unboxing", "showcase", "launch", "gadget", "shoe", "app"),
        "clean commercial product cinematography, shallow depth of field, crisp detail",
        "soft key light with a gentle rim light, bright and even",
        "a clean studio tabletop with a seamless backdrop",
        (
            "Hero reveal of {subject}, centred and sharp",
            "Close-up on the materials and details of {subject}",
            "{subject} in use, showing what it does best",
            "Wide lifestyle shot of {subject} in {setting}",
            "Final hero frame of {subject} with space for an end card",
        ),
        (
            "slow push-in",
            "macro slider move",
            "handheld follow",
            "orbit at product height",
            "locked-off wide",
        ),
    ),
    _Genre(
        "explainer",
        (
            "explain",
            "explainer",
            "how",
            "why",
            "vs",
            "versus",
            "difference",
            "lesson",
            "teach",
            "science",
            "physics",
            "flow",
            "diagram",
            "concept",
        ),
        "clear educational motion graphics with simple, labelled visuals",
        "flat, even lighting with high contrast for legibility",
        "a minimal diagram space with a neutral background",
        (
            "Title card introducing {subject}",
            "The first idea of {subject}, shown step by step",
            "The contrasting idea, side by side with the first",
            "A worked example that makes {subject} concrete",
            "Summary frame recapping {subject}",
        ),
        (
            "static frame",
            "slow zoom on the diagram",
            "gentle pan across",
            "split-screen hold",
            "slow pull-out",
        ),
    ),
    _Genre(
        "tutorial",
        ("tutorial", "step", "steps", "guide", "recipe", "setup", "install", "walkthrough"),
        "bright, practical how-to footage, top-down and over-the-shoulder angles",
        "natural window light, soft and shadow-free",
        "a tidy workspace",
        (
            "Overview of the finished result: {subject}",
            "Step one of {subject}, hands in frame",
            "Step two of {subject}, close on the key action",
            "The result of {subject}, shown clearly",
        ),
        ("top-down static", "over-the-shoulder", "close-up insert", "slow reveal pull-back"),
        "on",
    ),
    _Genre(
        "advert",
        ("ad", "advert", "commercial", "promo", "teaser", "campaign", "brand", "sale"),
        "bold, high-energy commercial style with punchy colour grading",
        "dramatic contrast with coloured accent lights",
        "a stylised set that matches the brand's colours",
        (
            "Attention-grabbing opening on {subject}",
            "The benefit of {subject}, shown in action",
            "A quick montage of {subject} in everyday moments",
            "Brand moment: {subject} with a clear call to action",
        ),
        ("whip pan", "fast dolly-in", "low-angle hero", "snap zoom"),
        "for",
    ),
)

_STORY = _Genre(
    "cinematic scene",
    (),
    "cinematic, naturalistic colour, 35mm film look",
    "motivated natural light with soft shadows",
    "",
    (
        "Establishing shot: {subject}",
        "Medium shot developing {subject}",
        "Close detail that adds emotion to {subject}",
        "Closing wide shot that resolves {subject}",
    ),
    ("slow dolly-in", "steady tracking shot", "crane up", "handheld close", "slow pull-out"),
)

_SETTINGS = {
    "kitchen": "a bright modern kitchen",
    "office": "a calm, modern office",
    "beach": "a sunlit beach at golden hour",
    "city": "a city street at dusk",
    "street": "a city street at dusk",
    "forest": "a misty forest",
    "mountain": "a mountain trail at sunrise",
    "gym": "a clean gym",
    "classroom": "a bright classroom",
    "lab": "a clean laboratory bench",
    "studio": "a clean studio with a seamless backdrop",
    "desk": "a tidy desk by a window",
    "outdoor": "an open outdoor space in daylight",
    "river": "a river bank",
    "space": "outer space with distant stars",
}

_FILLER = re.compile(
    r"^(?:please\s+)?(?:can you\s+)?(?:make|create|generate|render|produce|give me|i want|i need)?"
    r"\s*(?:me\s+)?(?:(?:a|an|the)\s+)?"
    r"(?:(?:short|quick|little)\s+)?(?:video|clip|film|animation|movie)?\s*(?:of|about|showing)?\s*",
    re.IGNORECASE,
)
_GENRE_LEAD = re.compile(
    r"^(?:(?:a|an|the)\s+)?(?:(?:short|quick|little|simple|calm|fun|upbeat)\s+)*"
    r"(?:product\s+demo|demo|explainer|tutorial|walkthrough|guide|advert|ad|commercial|promo|teaser|"
    r"cinematic\s+scene|scene|video|clip|film|animation)(?:\s+video)?\s+(?:of|about|on|showing|for)\s+",
    re.IGNORECASE,
)
_EXPLAIN_VERB = re.compile(r"^(?:explain|teach\s+me|teach)\s+(?:(?:to\s+me|me)\s+)?", re.IGNORECASE)
_OPTION_WORDS = re.compile(
    r"\b(\d{1,3}\s*(?:-\s*)?(?:s|sec|secs|second|seconds)|vertical|horizontal|portrait|landscape|"
    r"square|widescreen|16:9|9:16|1:1)\b",
    re.IGNORECASE,
)
_VAGUE = {
    "video",
    "clip",
    "something",
    "anything",
    "cool",
    "nice",
    "thing",
    "stuff",
    "a",
    "an",
    "the",
    "make",
    "me",
    "please",
    "create",
    "generate",
    "some",
    "good",
    "movie",
    "film",
}


def _stable_index(text: str, salt: str, modulo: int) -> int:
    digest = hashlib.sha256(f"{salt}:{text}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % modulo


def _clean_subject(text: str) -> str:
    without_options = _OPTION_WORDS.sub(" ", text)
    without_options = re.sub(r"\s+", " ", without_options).strip(" ,.;:-")
    subject = _FILLER.sub("", without_options, count=1).strip(" ,.;:-")
    # The genre goes into the prompt once ("a product demo of …"), so drop it from the subject.
    subject = _GENRE_LEAD.sub("", subject, count=1).strip(" ,.;:-")
    subject = _EXPLAIN_VERB.sub("", subject, count=1).strip(" ,.;:-")  # "explain X": an explainer of X
    subject = re.sub(r"\s*,\s*(?:,\s*)+", ", ", subject)
    return subject or without_options or text.strip()


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _genre(words: list[str]) -> _Genre:
    best, score = _STORY, 0
    for genre in _GENRES:
        hits = sum(1 for w in words if w in genre.keywords)
        if hits > score:
            best, score = genre, hits
    return best


def _setting(words: list[str], genre: _Genre) -> str:
    for word in words:
        if word in _SETTINGS:
            return _SETTINGS[word]
    return genre.setting


# "one continuous take", "a single take", "a oner": every shot continues the previous one's take.
_CONTINUOUS = re.compile(r"\b(?:continuous(?:\s+(?:take|shot))?|single[- ]take|one[- ]take|oner)\b", re.I)


def _beat(genre: _Genre, i: int, count: int) -> str:
    """Shot ``i`` of ``count``: the genre's beats in order, the closing beat last, middles repeated."""
    beats = genre.beats
    if i == count - 1 and count > 1:
        return beats[-1]
    if i < len(beats) - 1:
        return beats[i]
    middle = beats[1:-1] or beats
    return middle[(i - len(beats) + 1) % len(middle)] + " (another angle)"


def _split_seconds(total: int) -> list[float]:
    count = max(1, round(total / SECONDS_PER_SHOT))
    base = round(total / count, 2)
    parts = [base] * count
    parts[-1] = round(total - base * (count - 1), 2)  # the last shot absorbs rounding
    return parts


class OfflineRefiner:
    """Deterministic brief writer used by the embedded default and as the LLM's fallback."""

    name = "offline"

    async def refine(self, data: RefineInput) -> Brief | Clarification:
        return self.refine_now(data)

    def refine_now(self, data: RefineInput) -> Brief | Clarification:
        text = data.text.strip()
        if data.instruction:
            text = f"{text}. {data.instruction.strip()}"
        words = _words(text)
        if not [w for w in words if w not in _VAGUE and not w.isdigit()]:
            return Clarification(
                "What should the video show? Tell me the subject and the feeling, e.g. "
                "“our steel water bottle on a kitchen counter, upbeat”."
            )
        subject = _clean_subject(text)
        short_subject = subject if len(subject) <= 120 else subject[:117].rstrip() + "…"
        genre = _genre(words)
        setting = _setting(words, genre)
        durations = [float(s) for s in data.shot_seconds] or _split_seconds(data.seconds)
        start = _stable_index(text, "camera", len(genre.cameras))
        continuous = bool(_CONTINUOUS.search(text))
        shots = tuple(
            Shot(
                index=i + 1,
                seconds=seconds,
                description=_beat(genre, i, len(durations)).format(subject=short_subject, setting=setting),
                camera=genre.cameras[(start + i) % len(genre.cameras)],
                continues=continuous and i > 0,
            )
            for i, seconds in enumerate(durations)
        )
        orientation = {"9:16": "vertical 9:16", "1:1": "square 1:1"}.get(data.aspect, "widescreen 16:9")
        shot_lines = " ".join(f"Shot {s.index} ({s.seconds:g}s, {s.camera}): {s.description}." for s in shots)
        article = "An" if str(data.seconds).startswith("8") or data.seconds in (11, 18) else "A"
        prompt = (
            f"{article} {data.seconds}-second {orientation} {genre.name} {genre.connector} {short_subject}"
            f"{f', set in {setting}' if setting else ''}. "
            f"Style: {genre.style}. Lighting: {genre.lighting}. {shot_lines}"
        )
        if len(prompt) > data.max_prompt_chars:
            prompt = prompt[: data.max_prompt_chars - 1].rstrip() + "…"
        explainer = None
        if data.explainer or is_explainer_ask(data.text) or (data.previous and data.previous.explainer):
            explainer = outline(short_subject, [s.seconds for s in shots], data.audience)
            shots = tuple(
                Shot(s.index, s.seconds, _outline_picture(i, len(shots), explainer), s.camera)
                for i, s in enumerate(shots)
            )
        return Brief(
            request_id=data.request_id,
            version=data.version,
            prompt=prompt,
            subject=short_subject,
            setting=setting or "as described",
            style=genre.style,
            lighting=genre.lighting,
            camera=shots[0].camera,
            negative_prompt=NEGATIVE_PROMPT,
            seconds=data.seconds,
            aspect=data.aspect,
            shots=shots,
            refiner=self.name,
            note=data.instruction or "",
            explainer=explainer,
        )


__all__ = ["NEGATIVE_PROMPT", "OfflineRefiner", "key_terms"]
