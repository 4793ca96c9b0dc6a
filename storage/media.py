"""The media store: clips as files under the data folder, and which of them may be served."""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from storage.links import LinkCheck, LinkSigner

CLIPS = "clips"
LINK_PREFIX = f"/media/{CLIPS}/"
# Finished clips only: ``rnd_….mp4`` and the approval re-sign ``rnd_….approved.mp4``. Work files
# (``.rnd_….staged.mp4``), sidecars (``….provenance.json``), downloads and animatic jobs never match.
CLIP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}(?:\.approved)?\.mp4")


class LocalMediaStore:
    """Files on local disk.

    Args:
        root: The media folder (clips, downloads, animatic jobs).
        public_url: Where people reach this server's web app; links to clips start there.
        links: Signs links to clips (required for links when ``public_url`` is set).
    """

    def __init__(self, root: Path, public_url: str = "", links: LinkSigner | None = None) -> None:
        self.root = root.resolve()
        self.public_url = public_url.rstrip("/")
        self.links = links
        self.root.mkdir(parents=True, exist_ok=True)

    def clip_path(self, render_id: str) -> Path:
        path = self.root / CLIPS / f"{render_id}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def work_dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def url_for(self, path: Path) -> str:
        """A signed, expiring link to a finished clip; a ``file://`` URI without a public URL.

        Raises:
            ValueError: ``path`` is not a finished clip of this store, or links cannot be signed.
        """
        resolved = path.resolve()
        if resolved.parent != self._clips() or not CLIP_NAME.fullmatch(resolved.name):
            raise ValueError(f"{path} is not a finished clip; only those are linked")
        if not self.public_url:
            return resolved.as_uri()
        if self.links is None:
            raise ValueError("links to clips need a link signer (CLIPDESK_LINK_SECRET or the data dir's)")
        link_path = LINK_PREFIX + quote(resolved.name)
        return f"{self.public_url}{link_path}?{self.links.query(link_path)}"

    def check_link(self, name: str, expires: str | None, sig: str | None) -> LinkCheck:
        """Whether ``/media/clips/{name}?expires=…&sig=…`` is a link this store signed and still honours."""
        if self.links is None or not CLIP_NAME.fullmatch(name):
            return LinkCheck.INVALID
        return self.links.check(LINK_PREFIX + quote(name), expires, sig)

    def servable_clip(self, name: str) -> Path | None:
        """The finished clip called ``name``, or ``None``: nothing else under the media folder is served."""
        if not CLIP_NAME.fullmatch(name):
            return None
        folder = self._clips()
        path = (folder / name).resolve()
        # A symlink planted in clips/ must not lead elsewhere.
        if path.parent != folder or not path.is_file():
            return None
        return path

    def _clips(self) -> Path:
        return (self.root / CLIPS).resolve()

    def delete_older_than(self, cutoff: datetime) -> list[Path]:
        """Delete clips and downloads last modified before ``cutoff``; records stay in the database."""
        removed: list[Path] = []
        limit = cutoff.astimezone(UTC).timestamp()
        for folder in (CLIPS, "downloads"):
            base = self.root / folder
            if not base.exists():
                continue
            for entry in os.scandir(base):
                if entry.is_file() and entry.stat().st_mtime < limit:
                    Path(entry.path).unlink(missing_ok=True)
                    removed.append(Path(entry.path))
        # The animatic keeps one folder per job (its frames' progress and output).
        jobs = self.root / "animatic"
        if jobs.exists():
            for entry in os.scandir(jobs):
                if entry.is_dir() and entry.stat().st_mtime < limit:
                    shutil.rmtree(entry.path, ignore_errors=True)
                    removed.append(Path(entry.path))
        return removed
