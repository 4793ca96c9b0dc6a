"""Configuration mistakes end a command with one line on stderr naming the variable, and exit code 2.

Every case runs the real command in a subprocess, configured only by its environment,
arguments and files, as an operator would meet the mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fakes.discord import FakeDiscord
from tests.fakes.loopback import unused_port
from tests.fakes.slack import APP_TOKEN, FakeSlack
from tests.support.cli_run import Run, clipdesk


@dataclass(frozen=True)
class Mistake:
    variable: str
    env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ("demo",)
    files: dict[str, str] = field(default_factory=dict)


def setting(variable: str, value: str, *args: str) -> Mistake:
    """One environment variable set wrong; ``demo`` (or ``args``) meets it."""
    return Mistake(variable, {variable: value}, args or ("demo",))


MISTAKES = {
    "concurrency not a number": setting("CLIPDESK_WORKER_CONCURRENCY", "abc"),
    "unknown provider": setting("CLIPDESK_PROVIDER", "bogus"),
    "provider without its key": setting("CLIPDESK_PROVIDER", "veo"),
    "provider option without its key": Mistake("GEMINI_API_KEY", args=("demo", "--provider", "veo")),
    "price for an unknown provider": setting("CLIPDESK_PRICES", "sora:sora-2=0.1"),
    "price for an unknown model": setting("CLIPDESK_PRICES", "animatic:animatic-v9=0"),
    "malformed price": setting("CLIPDESK_PRICES", "openai=0.1"),
    "mysql database": setting("CLIPDESK_DATABASE_URL", "mysql://u:p@db:3306/clipdesk"),
    "negative budget": setting("CLIPDESK_BUDGET_USER_MONTHLY", "-1"),
    "unreadable signing chain": Mistake(
        "CLIPDESK_C2PA_CERT_CHAIN",
        {"CLIPDESK_C2PA_CERT_CHAIN": "/nonexistent/chain.pem", "CLIPDESK_C2PA_PRIVATE_KEY": "/nonexistent/k"},
    ),
    "rsa signing keys": Mistake("--algorithm", args=("keys", "init", "--algorithm", "rsa")),
    "policy file typo": Mistake("clipdesk.toml", files={"clipdesk.toml": '[defaults]\naprovers = ["U1"]\n'}),
    "missing policy file": setting("CLIPDESK_POLICY_FILE", "nowhere.toml"),
    "refiner openai without a key": setting("CLIPDESK_REFINER", "openai"),
    "serve with an unknown provider": setting("CLIPDESK_PROVIDER", "bogus", "serve"),
    "worker with a bad public URL": setting("CLIPDESK_PUBLIC_URL", "clips.example", "worker"),
}


def assert_one_line_naming(run: Run, variable: str) -> None:
    assert run.code == 2, run.err
    assert len(run.err_lines) == 1, run.err
    assert variable in run.err_lines[0]
    assert "Traceback" not in run.err


@pytest.mark.parametrize("mistake", MISTAKES.values(), ids=MISTAKES.keys())
async def test_a_configuration_mistake_is_one_line_naming_the_variable(
    tmp_path: Path, mistake: Mistake
) -> None:
    for name, text in mistake.files.items():
        (tmp_path / name).write_text(text)
    run = await clipdesk(tmp_path, *mistake.args, env=mistake.env)
    assert_one_line_naming(run, mistake.variable)


async def test_debug_shows_the_full_traceback_instead(tmp_path: Path) -> None:
    run = await clipdesk(tmp_path, "--debug", "demo", env={"CLIPDESK_PROVIDER": "bogus"})
    assert run.code == 1 and "Traceback" in run.err and "ConfigError" in run.err
    run = await clipdesk(tmp_path, "demo", env={"CLIPDESK_PROVIDER": "bogus", "CLIPDESK_LOG_LEVEL": "DEBUG"})
    assert run.code == 1 and "Traceback" in run.err


async def test_serve_refuses_a_slack_token_that_slack_refuses(tmp_path: Path) -> None:
    slack = await FakeSlack().start()
    try:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-revoked",
            "SLACK_APP_TOKEN": APP_TOKEN,
            "CLIPDESK_SLACK_API_URL": slack.api_url,
            "CLIPDESK_HTTP_PORT": str(unused_port()),
        }
        run = await clipdesk(tmp_path, "serve", env=env)
    finally:
        await slack.close()
    assert_one_line_naming(run, "SLACK_BOT_TOKEN")
    assert "invalid_auth" in run.err


async def test_serve_names_discord_bot_token_when_discord_refuses_it(tmp_path: Path) -> None:
    discord = await FakeDiscord().start()
    try:
        env = {
            "DISCORD_BOT_TOKEN": "not-the-token",
            "CLIPDESK_DISCORD_API_URL": discord.api_url,
            "CLIPDESK_DISCORD_GATEWAY_URL": discord.gateway_url,
            "CLIPDESK_HTTP_PORT": str(unused_port()),
        }
        run = await clipdesk(tmp_path, "serve", env=env)
    finally:
        await discord.close()
    assert_one_line_naming(run, "DISCORD_BOT_TOKEN")


def test_a_discord_login_failure_from_discord_py_names_the_token() -> None:
    from discord.errors import LoginFailure

    from adapters.runtime.config_check import explain

    try:
        try:
            raise LoginFailure("Improper token has been passed.")
        except LoginFailure as exc:
            raise RuntimeError("start-up failed") from exc
    except RuntimeError as wrapped:
        problem = explain(wrapped)
    assert problem is not None and problem.variable == "DISCORD_BOT_TOKEN"
    assert len(problem.one_line().splitlines()) == 1


async def test_keys_init_refuses_to_overwrite_keys_without_force(tmp_path: Path) -> None:
    first = await clipdesk(tmp_path, "keys", "init")
    assert first.code == 0, first.err
    key = tmp_path / "data" / "keys" / "signer.key"
    before = key.read_bytes()
    again = await clipdesk(tmp_path, "keys", "init")
    assert_one_line_naming(again, "--force")
    assert key.read_bytes() == before  # nothing was replaced
    forced = await clipdesk(tmp_path, "keys", "init", "--force")
    assert forced.code == 0, forced.err
    assert key.read_bytes() != before


async def test_version_comes_from_the_package_metadata(tmp_path: Path) -> None:
    from importlib import metadata

    run = await clipdesk(tmp_path, "--version")
    assert run.code == 0 and run.out.strip() == f"clipdesk {metadata.version('clipdesk')}"


async def test_demo_help_lists_the_options_of_video(tmp_path: Path) -> None:
    run = await clipdesk(tmp_path, "demo", "--help", env={"COLUMNS": "200"})
    for option in ("--provider", "--seconds", "--aspect", "--variants", "--quality", "--model"):
        assert option in run.out
