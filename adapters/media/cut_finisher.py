"""``bot.ports.CutFinisher``: stitch a cut's shots with the post-processor's mark and signer.

The stitch, the watermark and QC are one decode → encode pass (:mod:`adapters.media.cut`);
the C2PA manifest lists every shot clip as an ingredient and the sidecar lists the shots
with their render, provider, model, seed and cost. A continuous shot starts from the
previous shot's last frame, which :meth:`CutMediaFinisher.last_frame` writes as a PNG.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import av
from PIL import Image

from adapters.media.cut import CutJob
from adapters.media.encoding import reason_of
from adapters.media.explained import explain, translated_captions
from adapters.media.postprocess import MediaPostProcessor, provenance_facts
from adapters.media.stitch import ShotClip, ShotUnusable, StitchOptions, planned_spans
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
        clips = tuple(ShotClip(s.path, s.index, s.seconds, s.continues) for s in shots)
        track = None
        workdir = self.clip_path(render).parent / ".narration" / render.id
        if brief.explainer is not None:  # narrate each shot of the cut where the stitch will put it
            spans = planned_spans(clips, StitchOptions(crossfade=crossfade))
            track = await explain(brief, request, render, self.post.speech, workdir, spans)
        job = CutJob(
            facts=facts,
            shots=clips,
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
        if track is not None:
            job = replace(
                job,
                narration=track.narration,
                language=track.language,
                burn_captions=track.captions == "burn",
                write_captions=track.captions != "off",
            )
        try:
            done = await self.post.process_cut(job)
        except ShotUnusable as exc:
            raise MediaError(texts.shot_unusable(exc.index, exc.reason)) from exc
        finally:
            await asyncio.to_thread(shutil.rmtree, workdir, True)
        attachments: tuple[Path, ...] = ()
        notes: tuple[str, ...] = ()
        if track is not None:
            notes = track.notes
            if done.captions is not None:
                attachments = (done.captions.vtt, done.captions.srt)
                stem = done.path.with_suffix("")
                translated = await asyncio.to_thread(translated_captions, track, stem)
                if translated is not None:
                    attachments += (translated.vtt, translated.srt)
                    notes += (texts.machine_translated(translated.language),)
        return ProcessedClip(
            path=done.path,
            findings=done.findings,
            hard_failure=done.hard_failure,
            provenance_digest=done.provenance_digest,
            seconds=done.seconds,
            attachments=attachments,
            notes=notes,
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
