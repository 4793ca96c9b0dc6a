"""Which Slack connection the settings give: Socket Mode, HTTP mode, send-only, or a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from adapters.runtime.container import App, build_app
from adapters.runtime.settings import Settings
from adapters.slack.platform import EVENTS_PATH, SlackConfigError, SlackPlatform, slack_platform
from storage.media import LocalMediaStore
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.support.harness import test_settings
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider


def settings_for(tmp_path: Path, db_url: str, fake: FakeSlack, **slack: object) -> Settings:
    return test_settings(tmp_path, db_url, slack_bot_token=BOT_TOKEN, slack_api_url=fake.api_url, **slack)


@pytest.mark.parametrize(
    ("slack", "mode"),
    [
        ({"slack_app_token": APP_TOKEN, "slack_signing_secret": SIGNING_SECRET}, "socket"),
        ({"slack_app_token": APP_TOKEN}, "socket"),
        ({"slack_signing_secret": SIGNING_SECRET}, "http"),
    ],
)
def test_app_token_means_socket_mode_and_a_signing_secret_alone_means_http(
    tmp_path: Path, sqlite_url: str, fake: FakeSlack, slack: dict[str, str], mode: str
) -> None:
    assert slack_platform(settings_for(tmp_path, sqlite_url, fake, **slack), receive=True).mode == mode


def test_receiving_without_an_app_token_or_signing_secret_is_a_clear_error(
    tmp_path: Path, sqlite_url: str, fake: FakeSlack
) -> None:
    with pytest.raises(SlackConfigError, match=r"SLACK_APP_TOKEN .* or SLACK_SIGNING_SECRET"):
        slack_platform(settings_for(tmp_path, sqlite_url, fake), receive=True)


async def _app(tmp_path: Path, settings: Settings, platform: SlackPlatform) -> App:
    return await build_app(
        settings,
        chat_ports=[platform.port],
        providers={"filejob": FileJobProvider(tmp_path / "jobs")},
        postprocessor=FilingPostProcessor(LocalMediaStore(settings.media_dir)),
        migrate=False,
    )


async def test_a_worker_process_only_sends(tmp_path: Path, sqlite_url: str, fake: FakeSlack) -> None:
    settings = settings_for(tmp_path, sqlite_url, fake, slack_signing_secret=SIGNING_SECRET)
    platform = slack_platform(settings, receive=False)
    app = await _app(tmp_path, settings, platform)
    web_app = FastAPI()
    try:
        await platform.start(app, web_app)
        assert platform.mode == "send-only"
        assert EVENTS_PATH not in [getattr(r, "path", None) for r in web_app.router.routes]
        assert fake.calls == []  # no auth.test, no socket: it only posts when the outbox says so
        assert platform.port.link_for is not None
    finally:
        await platform.stop()
        await app.close()


async def test_a_refused_app_token_stops_start_up_with_a_clear_error(
    tmp_path: Path, sqlite_url: str, fake: FakeSlack
) -> None:
    settings = settings_for(tmp_path, sqlite_url, fake, slack_app_token="xapp-wrong")
    platform = slack_platform(settings, receive=True)
    app = await _app(tmp_path, settings, platform)
    try:
        with pytest.raises(SlackConfigError, match="SLACK_APP_TOKEN was refused by Slack: invalid_auth"):
            await platform.start(app, FastAPI())
    finally:
        await platform.stop()
        await app.close()
