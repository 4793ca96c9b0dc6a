"""A post-processor for queue tests: file the clip where the media store keeps clips.

Watermark, provenance and QC have their own tests (tests/media); queue tests
only need the clip to land in the right place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.domain import Brief, Render, VideoRequest
from bot.ports import MediaStore, ProcessedClip


class FilingPostProcessor:
    def __init__(self, media: MediaStore) -> None:
        self.media = media
        self.calls = 0

    async def process(self, render: Render, brief: Brief, request: VideoRequest, clip: Path) -> ProcessedClip:
        self.calls += 1
        dest = self.media.clip_path(render.id)
        shutil.copyfile(clip, dest)
        return ProcessedClip(path=dest, seconds=float(render.seconds))
