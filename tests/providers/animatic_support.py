"""Briefs, specs and frame readers shared by the animatic tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np

from adapters.providers.animatic import AnimaticProvider
from bot.domain import Brief, Shot
from bot.ports import RemoteState, RemoteStatus, RenderSpec
from tests.support.waiting import wait_for

BOTTLE_SHOTS = (
    ("A steel water bottle on a sunlit kitchen counter, beads of water on it", "slow dolly in"),
    ("A hand pours ice water into a glass; the logo catches the light", "pan left"),
)


def make_brief(
    shots: Sequence[tuple[str, str]] = BOTTLE_SHOTS,
    seconds: int = 4,
    aspect: str = "16:9",
    *,
    subject: str = "our steel water bottle",
    setting: str = "a kitchen",
    prompt: str = "A 4-second widescreen product demo of a steel water bottle.",
    durations: Sequence[float] | None = None,
) -> Brief:
    each = durations or [seconds / len(shots)] * len(shots)
    return Brief(
        request_id="req_test",
        version=1,
        prompt=prompt,
        subject=subject,
        setting=setting,
        style="clean product film",
        lighting="soft daylight",
        camera=shots[0][1],
        negative_prompt="",
        seconds=seconds,
        aspect=aspect,
        shots=tuple(Shot(i + 1, each[i], text, camera) for i, (text, camera) in enumerate(shots)),
    )


def make_spec(
    size: str = "1280x720",
    aspect: str = "16:9",
    seconds: int = 4,
    *,
    model: str = "animatic-v1",
    brief_prompt: str = "A 4-second widescreen product demo of a steel water bottle.",
    render_id: str = "rnd_test",
    brief: Brief | None = None,
    **extra: object,
) -> RenderSpec:
    """A spec for the animatic; ``extra`` goes to :class:`RenderSpec` (``prompt``, ``first_frame``…)."""
    brief = brief or make_brief(seconds=seconds, aspect=aspect, prompt=brief_prompt)
    return RenderSpec(
        render_id=render_id,
        brief=brief,
        model=model,
        seconds=seconds,
        size=size,
        aspect=aspect,
        **extra,  # type: ignore[arg-type]
    )


async def wait_done(provider: AnimaticProvider, job_id: str, seconds: float = 120.0) -> list[RemoteStatus]:
    """Poll until the job completes or fails; every status seen, in order."""
    seen: list[RemoteStatus] = []

    async def finished() -> bool:
        status = await provider.status(job_id)
        seen.append(status)
        return status.state in (RemoteState.COMPLETED, RemoteState.FAILED)

    await wait_for(finished, seconds=seconds)
    return seen


def decoded_frames(path: Path, picks: Sequence[int] | None = None) -> dict[int, np.ndarray]:
    """Decode the clip to its last frame; keep the RGB frames at ``picks`` (all if None)."""
    kept: dict[int, np.ndarray] = {}
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if picks is None or i in picks:
                kept[i] = frame.to_ndarray(format="rgb24")
    return kept


def luma_frames(path: Path) -> list[np.ndarray]:
    """Every frame's Y plane (as the decoder gives it), to the last frame."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="gray").astype(np.int16) for frame in container.decode(video=0)]


def ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised cross-correlation of two same-sized grey images (1: same picture)."""
    x = a.astype(np.float64) - a.mean()
    y = b.astype(np.float64) - b.mean()
    denominator = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / denominator) if denominator else 0.0
