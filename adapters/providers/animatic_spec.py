"""From a :class:`RenderSpec` to an :class:`AnimaticJob`: what the animatic offers, and checks.

A spec either asks for the whole brief (every shot, each for its own seconds) or, in a
multi-shot cut, for one shot: ``spec.prompt`` is then that shot's text, and the animatic draws
that shot alone under its own number. A ``first_frame`` image is checked here (it must be a
picture Pillow can read) and enters the job by its digest, so the same image gives the same job.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from adapters.providers.animatic_plan import TITLE_SECONDS, AnimaticJob, ShotCard
from bot.domain import Brief
from bot.errors import PermanentProviderError
from bot.ports import RenderSpec

NAME = "animatic"
MODEL = "animatic-v1"
DURATIONS = (4, 6, 8, 10, 12, 16, 20)
SIZES = {"16:9": "1280x720", "9:16": "720x1280", "1:1": "720x720"}
HIGH_SIZES = {"16:9": "1920x1080", "9:16": "1080x1920", "1:1": "1080x1080"}
MAX_PROMPT_CHARS = 4000
MAX_FIRST_FRAME_PIXELS = 40_000_000  # a first frame is a video still, not a poster


def job_from_spec(spec: RenderSpec, fps: int, *, title_card: bool = True) -> AnimaticJob:
    """Check ``spec`` against the capabilities and freeze it into a job; bad specs are permanent.

    Reads the first-frame image when there is one, so call it off the event loop.
    """
    brief = spec.brief
    if spec.model != MODEL:
        raise _invalid(f"unknown model `{spec.model}`; the animatic has only `{MODEL}`")
    if spec.seconds not in DURATIONS:
        raise _invalid(f"{spec.seconds} s is not offered; choose one of {DURATIONS}")
    if spec.aspect not in SIZES:
        raise _invalid(f"aspect {spec.aspect} is not offered; choose one of {tuple(SIZES)}")
    if spec.size not in (SIZES[spec.aspect], HIGH_SIZES[spec.aspect]):
        raise _invalid(f"size {spec.size} does not match aspect {spec.aspect}")
    for text in (brief.prompt, spec.prompt or ""):
        if len(text) > MAX_PROMPT_CHARS:
            raise _invalid(f"the prompt has {len(text)} characters, over {MAX_PROMPT_CHARS}")
    width, height = (int(v) for v in spec.size.split("x"))
    shots, total_shots = _shots(spec)
    # The seed comes from what is asked, not from ids, so a restarted job renders the same bytes;
    # it leaves out the shot, so every shot of one cut shares one look.
    seed_text = f"{brief.digest}:{spec.seed}"
    seed = int.from_bytes(hashlib.sha256(seed_text.encode()).digest()[:8], "big")
    count = f"{total_shots} shot" + ("s" if total_shots != 1 else "")
    return AnimaticJob(
        render_id=spec.render_id,
        title=brief.subject or brief.prompt[:120],
        subtitle=f"{brief.seconds or spec.seconds} s · {spec.aspect} · {count}",
        shots=shots,
        seconds=spec.seconds,
        width=width,
        height=height,
        fps=fps,
        seed=seed,
        subject=brief.subject,
        setting=brief.setting,
        style=brief.style,
        lighting=brief.lighting,
        total_shots=total_shots,
        title_seconds=TITLE_SECONDS if title_card else 0.0,
        first_frame=first_frame_digest(spec.first_frame) if spec.first_frame else None,
    )


def _shots(spec: RenderSpec) -> tuple[tuple[ShotCard, ...], int]:
    """The shots this job draws, and how many the brief has."""
    brief: Brief = spec.brief
    if spec.prompt:
        wanted = spec.prompt.strip()
        match = next((s for s in brief.shots if s.description.strip() == wanted), None) or next(
            (s for s in brief.shots if s.description.strip() and s.description.strip() in wanted), None
        )
        if match is None:
            return (ShotCard(wanted, brief.camera, float(spec.seconds), 1),), 1
        shot = ShotCard(match.description, match.camera, float(spec.seconds), match.index)
        return (shot,), max(len(brief.shots), match.index)
    shots = tuple(ShotCard(s.description, s.camera, float(s.seconds), s.index) for s in brief.shots)
    if not shots:
        shots = (ShotCard(brief.prompt or brief.subject, brief.camera, float(spec.seconds), 1),)
    return shots, len(shots)


def first_frame_digest(path: Path) -> str:
    """The sha256 of a first-frame image after checking that it is one; unreadable is permanent."""
    try:
        data = Path(path).read_bytes()
        with Image.open(path) as image:
            if image.width * image.height > MAX_FIRST_FRAME_PIXELS:
                raise _invalid(f"the first-frame image is {image.width}x{image.height}, too large")
            image.verify()
    except (OSError, UnidentifiedImageError, SyntaxError) as exc:
        raise _invalid(f"the first-frame image {Path(path).name} cannot be read ({exc})") from exc
    return hashlib.sha256(data).hexdigest()


def save_first_frame(source: Path, dest: Path) -> None:
    """Keep the job's own copy of the first frame (the caller's file may be temporary)."""
    with Image.open(source) as image:
        rgb = image.convert("RGB")
    tmp = dest.with_name(f".{dest.name}.part")
    rgb.save(tmp, format="PNG")
    tmp.replace(dest)


def _invalid(reason: str) -> PermanentProviderError:
    return PermanentProviderError(f"animatic cannot render this: {reason}", provider=NAME)
