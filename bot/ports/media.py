"""Where clips live, and what is done to them after download (watermark, provenance, QC, sealing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from bot.domain import Brief, Render, VideoRequest


class MediaStore(Protocol):
    """Where clips live. Paths are local files; ``url_for`` gives a link to share."""

    def clip_path(self, render_id: str) -> Path: ...

    def work_dir(self, name: str) -> Path: ...

    def url_for(self, path: Path) -> str: ...

    def delete_older_than(self, cutoff: datetime) -> list[Path]: ...


@dataclass(frozen=True)
class ProcessedClip:
    path: Path
    findings: tuple[str, ...] = ()
    hard_failure: bool = False
    provenance_digest: str | None = None
    seconds: float = 0.0
    attachments: tuple[Path, ...] = ()  # files that go with the clip into the thread (captions)
    notes: tuple[str, ...] = ()  # what the thread should know about them ("captions only: …")


class PostProcessor(Protocol):
    """Watermark, provenance and QC of a downloaded clip (see ``adapters/media``)."""

    async def process(
        self, render: Render, brief: Brief, request: VideoRequest, clip: Path
    ) -> ProcessedClip: ...


@runtime_checkable
class Renarrator(Protocol):
    """Retry narration: speak the script again under a filed clip, without a new provider job."""

    async def renarrate(self, render: Render, brief: Brief, request: VideoRequest) -> ProcessedClip: ...


class ApprovalSealer(Protocol):
    """Re-sign an approved clip so its provenance names the approver."""

    async def seal(
        self, render: Render, brief: Brief, request: VideoRequest, approver: str
    ) -> ProcessedClip: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class ShotTake:
    """One rendered shot of a cut, as the stitcher needs it: its file, place, maker and cost."""

    index: int
    path: Path
    seconds: float
    continues: bool
    render_id: str
    provider: str
    model: str
    seed: int
    cost: float


class VariantSheets(Protocol):
    """One contact sheet image of several takes: a labelled row (#1…#N) of frames per take."""

    async def sheet(self, name: str, clips: Sequence[Path]) -> Path: ...


class CutFinisher(Protocol):
    """Stitch a cut's shots into one reviewed clip (watermark, QC, C2PA in the same pass)."""

    async def finish(
        self,
        render: Render,
        brief: Brief,
        request: VideoRequest,
        shots: Sequence[ShotTake],
        *,
        crossfade: float = 0.0,
    ) -> ProcessedClip:
        """Raises :class:`bot.errors.MediaError` naming the shot that cannot be used."""
        ...

    async def last_frame(self, clip: Path, dest: Path) -> Path:
        """Write the clip's last frame as a PNG at ``dest`` (a continuous shot starts from it)."""
        ...
