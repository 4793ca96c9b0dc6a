"""The media store: clips as files under the data folder."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote


class LocalMediaStore:
    """Files on local disk. ``public_url`` (if set) is where an HTTP server exposes ``root``."""

    def __init__(self, root: Path, public_url: str = "") -> None:
        self.root = root.resolve()
        self.public_url = public_url.rstrip("/")
        self.root.mkdir(parents=True, exist_ok=True)

    def clip_path(self, render_id: str) -> Path:
        path = self.root / "clips" / f"{render_id}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def work_dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def url_for(self, path: Path) -> str:
        relative = path.resolve().relative_to(self.root).as_posix()
        if self.public_url:
            return f"{self.public_url}/media/{quote(relative)}"
        return path.resolve().as_uri()

    def delete_older_than(self, cutoff: datetime) -> list[Path]:
        """Delete clips and downloads last modified before ``cutoff``; records stay in the database."""
        removed: list[Path] = []
        limit = cutoff.astimezone(UTC).timestamp()
        for folder in ("clips", "downloads"):
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
