"""One brief and render spec for provider tests: the steel water bottle every test renders."""

from __future__ import annotations

import asyncio

from bot.domain import Brief, Shot
from bot.ports import RemoteState, RemoteStatus, RenderSpec, VideoProvider

PROMPT = "A steel water bottle on a kitchen counter, morning light."


def bottle_brief(*, seconds: int = 4, aspect: str = "16:9", prompt: str = PROMPT) -> Brief:
    return Brief(
        request_id="req_1",
        version=1,
        prompt=prompt,
        subject="a steel water bottle",
        setting="a kitchen counter",
        style="commercial",
        lighting="morning light",
        camera="slow push-in",
        negative_prompt="watermarks, blur",
        seconds=seconds,
        aspect=aspect,
        shots=(Shot(1, float(seconds), "Hero shot of the bottle", "slow push-in"),),
    )


def bottle_spec(
    *,
    model: str,
    seconds: int = 4,
    aspect: str = "16:9",
    size: str = "1280x720",
    prompt: str = PROMPT,
    seed: int | None = None,
    render_id: str = "rnd_1",
) -> RenderSpec:
    brief = bottle_brief(seconds=seconds, aspect=aspect, prompt=prompt)
    return RenderSpec(
        render_id=render_id, brief=brief, model=model, seconds=seconds, size=size, aspect=aspect, seed=seed
    )


async def poll_to_end(
    provider: VideoProvider, remote_id: str, *, seconds: float = 60.0
) -> list[RemoteStatus]:
    """Every status until the job leaves queued/running; fails if a fake never finishes in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    seen = [await provider.status(remote_id)]
    while seen[-1].state in (RemoteState.QUEUED, RemoteState.RUNNING):
        assert loop.time() < deadline, "the fake never finished"
        await asyncio.sleep(0.01)
        seen.append(await provider.status(remote_id))
    return seen
