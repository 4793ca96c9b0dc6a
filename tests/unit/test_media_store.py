"""Retention deletes old clips, downloads and animatic jobs; recent ones and the database stay."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.links import LinkSigner
from storage.media import LocalMediaStore


def test_retention_deletes_only_what_is_older_than_the_cutoff(tmp_path: Path) -> None:
    media = LocalMediaStore(tmp_path / "media")
    old_clip, new_clip = media.clip_path("rnd_old"), media.clip_path("rnd_new")
    old_download = media.work_dir("downloads") / "rnd_old.mp4"
    old_job = media.work_dir("animatic") / "anim_old"
    old_job.mkdir()
    for path in (old_clip, new_clip, old_download, old_job / "clip.mp4"):
        path.write_bytes(b"x")
    stale = time.time() - 40 * 86400
    for path in (old_clip, old_download, old_job):
        os.utime(path, (stale, stale))
    removed = media.delete_older_than(datetime.now(UTC) - timedelta(days=30))
    assert set(removed) == {old_clip, old_download, old_job}
    assert new_clip.exists() and not old_job.exists()


def test_links_point_at_the_public_url_when_one_is_set(tmp_path: Path) -> None:
    media = LocalMediaStore(tmp_path / "media", "https://clips.example.com/", LinkSigner(b"k" * 32))
    link = media.url_for(media.clip_path("rnd_1"))
    assert link.startswith(
        "https://clips.example.com/media/clips/rnd_1.mp4?expires="
    )  # signed: see tests/web
    assert LocalMediaStore(tmp_path / "m2").url_for(tmp_path / "m2" / "clips" / "a.mp4").startswith("file://")
