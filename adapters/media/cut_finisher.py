"""``bot.ports.CutFinisher``: stitch a cut's shots with the post-processor's mark and signer.

The stitch, the watermark and QC are one decode → encode pass (:mod:`adapters.media.cut`);
the C2PA manifest lists every shot clip as an ingredient and the sidecar lists the shots
with their render, provider, model, seed and cost. A continuous shot starts from the
previous shot's last frame, which :meth:`CutMediaFinisher.last_frame` writes as a PNG.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path

import av
from PIL import Image

from adapters.media.cut import CutJob
from adapters.media.encoding import reason_of
from adapters.media.postprocess import MediaPostProcessor, provenance_facts
from adapters.media.stitch import ShotClip, ShotUnusable
from bot import texts
from bot.domain import Brief, Render, VideoRequest
from bot.errors import MediaError
from bot.ports import ProcessedClip, ShotTake, SourceType


class CutMediaFinisher:
    def __init__(
        self,
        post: MediaPostProcessor,
        clip_path: Callable[[Render], Path],
        source_type_for: Callable[[Render], SourceType],
    ) -> None:
        self.post = post
        self.clip_path = clip_path
        self.source_type_for = source_type_for

    async def finish(
        self,
        render: Render,
        brief: Brief,
        request: VideoRequest,
        shots: Sequence[ShotTake],
        *,
        crossfade: float = 0.0,
    ) -> ProcessedClip:
        facts = provenance_facts(render, brief, request, source_type=self.source_type_for(render))
        job = CutJob(
            facts=facts,
            shots=tuple(ShotClip(s.path, s.index, s.seconds, s.continues) for s in shots),
            dest=self.clip_path(render),
            seconds=float(sum(s.seconds for s in shots)),
            shot_agents={s.index: f"{s.provider}/{s.model}" for s in shots},
            shot_facts={
                s.index: {
                    "render_id": s.render_id,
                    "provider": s.provider,
                    "model": s.model,
                    "seed": s.seed,
                    "cost": s.cost,
                    "seconds_planned": s.seconds,
                }
                for s in shots
            },
            crossfade=crossfade,
        )
        try:
            done = await self.post.process_cut(job)
        except ShotUnusable as exc:
            raise MediaError(texts.shot_unusable(exc.index, exc.reason)) from exc
        return ProcessedClip(
            path=done.path,
            findings=done.findings,
            hard_failure=done.hard_failure,
            provenance_digest=done.provenance_digest,
            seconds=done.seconds,
        )

    async def last_frame(self, clip: Path, dest: Path) -> Path:
        return await asyncio.to_thread(write_last_frame, clip, dest)


def write_last_frame(clip: Path, dest: Path) -> Path:
    """Decode ``clip`` to its end and keep its last picture as a PNG (atomically)."""
    last = None
    try:
        with av.open(str(clip)) as container:
            for frame in container.decode(video=0):
                last = frame
    except av.FFmpegError as exc:
        raise MediaError(f"the last frame of {clip.name} cannot be read: {reason_of(exc)}") from exc
    if last is None:
        raise MediaError(f"{clip.name} has no frames")
    image = Image.fromarray(last.to_ndarray(format="rgb24"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    image.save(tmp, format="PNG")
    tmp.replace(dest)
    return dest
