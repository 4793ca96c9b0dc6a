"""Done-when 1: a keyless explainer demo makes a narrated clip with captions that match its script."""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import sys
from pathlib import Path

import av
import numpy as np
import pysubs2
import pytest

from adapters.media.provenance import read_provenance
from bot.explainers import Explainer
from tests.fakes.media import decode_to_end
from tests.support.cli_run import clean_environment

ASK = "explain laminar vs turbulent flow for 14-year-olds"


def decoded_sound(path: Path) -> tuple[np.ndarray, int]:
    """The clip's audio stream decoded to the end, mixed to mono, and its sample rate."""
    with av.open(str(path)) as container:
        frames = list(container.decode(audio=0))
    return np.concatenate([f.to_ndarray().mean(axis=0) for f in frames]), frames[0].sample_rate


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0


@pytest.mark.slow
async def test_a_keyless_explainer_demo_is_narrated_and_captioned_inside_the_clip(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.runtime.cli",
        "demo",
        ASK,
        "--seconds",
        "30",
        cwd=tmp_path,
        env=clean_environment(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 240)
    assert proc.returncode == 0, err.decode()
    lines = out.decode().strip().splitlines()
    clip = Path(lines[-1])
    thread = out.decode()
    assert "Narration script" in thread and "Learning goal" in thread and "Edit script" in thread

    video = decode_to_end(clip)
    assert video.seconds == pytest.approx(30.0, abs=0.05)
    sound, rate = decoded_sound(clip)
    assert len(sound) / rate == pytest.approx(video.seconds, abs=0.05)  # a track as long as the clip

    # The script as stored with the brief (the offline outline of the ask's own words): the captions say it.
    [row] = (
        sqlite3.connect(tmp_path / "data" / "clipdesk.db").execute("SELECT explainer FROM briefs").fetchall()
    )
    explainer = Explainer.from_dict(json.loads(row[0]))
    assert explainer.outline_only and explainer.key_terms == ("laminar flow", "turbulent flow")
    script = [line for line in explainer.script if line]
    assert len(script) >= 3
    vtt, srt = clip.with_name(f"{clip.stem}.en.vtt"), clip.with_name(f"{clip.stem}.en.srt")
    for path in (vtt, srt):
        subs = pysubs2.load(str(path))
        assert " ".join(e.plaintext.replace("\n", " ") for e in subs) == " ".join(script)
        assert all(0 <= e.start < e.end <= video.seconds * 1000 for e in subs)
    assert vtt.read_text().startswith("WEBVTT")

    # Speech where the captions are, quiet in the gaps between shots' lines.
    cues = pysubs2.load(str(vtt))
    for cue in cues:
        spoken = sound[round(cue.start / 1000 * rate) : round(cue.end / 1000 * rate)]
        assert rms(spoken) > 0.02, f"silent under the caption {cue.plaintext!r}"
    gaps = [(a.end, b.start) for a, b in itertools.pairwise(cues) if b.start - a.end > 600]
    assert gaps
    for start, end in gaps:
        assert rms(sound[round((start + 150) / 1000 * rate) : round((end - 150) / 1000 * rate)]) < 0.005

    # Provenance names each voice line; eSpeak NG is no trained model, so not "trainedAlgorithmicMedia".
    sidecar = json.loads(clip.with_name(f"{clip.stem}.provenance.json").read_text())
    voices = [i for i in sidecar["ingredients"] if i["title"].startswith("narration")]
    assert [i["title"] for i in voices] == [f"narration of shot {i}" for i in range(1, len(script) + 1)]
    assert {i["agent"] for i in voices} == {"espeak-ng"}
    assert sidecar["qc"] == [] and -20 <= sidecar["loudness_lufs"] <= -12
    assert read_provenance(clip).validates
