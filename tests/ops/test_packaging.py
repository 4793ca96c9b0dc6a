"""`pip install clipdesk` runs the keyless demo; `clipdesk[discord]` has what deploy/discord/README.md names.

Each test installs the package from this checkout into a fresh virtual environment (pip's
cache is reused, every step has a time limit) and runs the installed ``clipdesk`` script
from an empty folder, so nothing of the development venv can leak in.
"""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

from tests.fakes.media import decode_to_end

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
INSTALL_SECONDS = 600
_FOREIGN = ("CLIPDESK_", "SLACK_", "DISCORD_", "OPENAI_", "GEMINI_", "GOOGLE_", "RUNWAYML_", "PYTHON")


def fresh_install(where: Path, requirement: str) -> Path:
    """A new venv at ``where`` with ``requirement`` installed; returns its bin folder."""
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    bin_dir = where / "bin"
    subprocess.run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            requirement,
        ],
        check=True,
        timeout=INSTALL_SECONDS,
        cwd=where,
        capture_output=True,
    )
    return bin_dir


def run(bin_dir: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN) and k != "VIRTUAL_ENV"}
    clean.update(PATH=f"{bin_dir}{os.pathsep}{clean.get('PATH', '')}", **env)
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]], cwd=cwd, env=clean, capture_output=True, text=True, timeout=300
    )


def test_the_base_install_runs_the_keyless_demo_to_a_decodable_clip(tmp_path: Path) -> None:
    bin_dir = fresh_install(tmp_path / "venv", str(ROOT))
    work = tmp_path / "work"
    work.mkdir()
    demo = run(bin_dir, work, "clipdesk", "demo", "a 4 second product demo of our steel water bottle")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    clip = Path(demo.stdout.strip().splitlines()[-1])
    facts = decode_to_end(clip)
    assert facts.codec == "h264" and facts.frames == 96 and facts.seconds == pytest.approx(4, abs=0.1)
    assert clip.with_name(f"{clip.stem}.provenance.json").is_file()  # signed: C2PA is in the base install
    check = run(bin_dir, work, "python", "-c", "import slack_bolt, discord, openai, psycopg")
    assert check.returncode != 0, "the base install is meant to be without the extras"

    # What needs an extra says which, in one line, instead of a ModuleNotFoundError.
    slack = run(bin_dir, work, "clipdesk", "serve", SLACK_BOT_TOKEN="xoxb-x", SLACK_APP_TOKEN="xapp-x")
    assert slack.returncode == 2 and slack.stderr.strip().splitlines() == [
        "clipdesk: SLACK_BOT_TOKEN: is set but slack_bolt is not installed; pip install 'clipdesk[slack]'"
    ]
    veo = run(bin_dir, work, "clipdesk", "demo", "--provider", "veo", GEMINI_API_KEY="k")
    assert veo.returncode == 2 and "clipdesk[providers]" in veo.stderr
    postgres = run(bin_dir, work, "clipdesk", "db", "upgrade", CLIPDESK_DATABASE_URL="postgresql://h/db")
    assert postgres.returncode == 2 and "clipdesk[postgres]" in postgres.stderr


def test_the_discord_extra_installs_what_the_discord_readme_promises(tmp_path: Path) -> None:
    assert "pip install 'clipdesk[discord]'" in (ROOT / "deploy" / "discord" / "README.md").read_text()
    bin_dir = fresh_install(tmp_path / "venv", f"{ROOT}[discord]")
    work = tmp_path / "work"
    work.mkdir()
    imports = run(bin_dir, work, "python", "-c", "import adapters.discord.platform, adapters.runtime.server")
    assert imports.returncode == 0, imports.stderr
    doctor = run(
        bin_dir,
        work,
        "clipdesk",
        "doctor",
        DISCORD_BOT_TOKEN="t",
        CLIPDESK_DISCORD_API_URL="http://127.0.0.1:9",
    )
    assert "discord" in doctor.stdout and "not installed" not in doctor.stdout + doctor.stderr
