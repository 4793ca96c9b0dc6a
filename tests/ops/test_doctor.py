"""`clipdesk doctor`'s checks (:func:`run_checks`) against the fakes: healthy, then one thing broken.

Every client is the real one (openai, google-genai, runwayml, slack_sdk, aiohttp for
Discord's REST API); only base URLs point at the fakes in tests/fakes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from adapters.media.provenance import DevCredentials, create_dev_certificates
from adapters.runtime.config_check import ConfigError
from adapters.runtime.doctor import CheckResult, Level, refuse_to_start_on_fatal, run_checks
from adapters.runtime.doctor_remote import SLACK_SCOPES
from adapters.runtime.settings import Settings
from tests.e2e.paid_fakes import OpenAIFake, PaidFake, running_all, settings_for
from tests.fakes.discord import FakeDiscord
from tests.fakes.loopback import unused_port
from tests.fakes.openai import FakeOpenAI
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, MANIFEST_SCOPES, FakeSlack
from tests.support.harness import test_settings

ROOT = Path(__file__).resolve().parents[2]
EVERY_CHECK = {
    "settings",
    "database",
    "media folder",
    "C2PA keys",
    "provider openai",
    "provider veo",
    "provider runway",
    "refiner",
    "moderation",
    "speech engine",
    "slack",
    "slack scopes",
    "discord",
    "public URL",
}


@dataclass
class World:
    settings: Settings
    paid: dict[str, PaidFake]
    slack: FakeSlack
    discord: FakeDiscord
    tmp: Path


@pytest.fixture
async def world(tmp_path: Path, sqlite_url: str) -> AsyncIterator[World]:
    keys = create_dev_certificates(tmp_path / "c2pa")
    slack = await FakeSlack().start()
    discord = await FakeDiscord().start()
    try:
        async with running_all(("openai", "veo", "runway"), tmp_path) as paid:
            overrides = settings_for(*paid.values())
            overrides.update(refiner="auto", moderation="auto")  # the LLM endpoint is under test too
            overrides.update(paid["openai"].settings())
            settings = test_settings(
                tmp_path,
                sqlite_url,
                **overrides,
                slack_bot_token=BOT_TOKEN,
                slack_app_token=APP_TOKEN,
                slack_api_url=slack.api_url,
                discord_bot_token=discord.token,
                discord_api_url=discord.api_url,
                public_url=slack.url,
                c2pa_cert_chain=keys.signer.cert_chain,
                c2pa_private_key=keys.signer.private_key,
            )
            yield World(settings, paid, slack, discord, tmp_path)
    finally:
        await discord.close()
        await slack.close()


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {result.name: result for result in results}


async def test_a_healthy_setup_passes_every_check(world: World) -> None:
    results = by_name(await run_checks(world.settings))
    assert set(results) == EVERY_CHECK
    assert {name: r.level for name, r in results.items()} == dict.fromkeys(EVERY_CHECK, Level.OK), results
    assert "days" in results["C2PA keys"].detail
    assert "clipdesk" in results["discord"].detail
    await refuse_to_start_on_fatal(world.settings)  # serve would start


def openai_server(w: World) -> FakeOpenAI:
    fake = w.paid["openai"]
    assert isinstance(fake, OpenAIFake)
    return fake.server


def wrong_database(w: World) -> None:
    w.settings.database_url = f"postgresql://postgres@127.0.0.1:{unused_port()}/nowhere"


def openai_key_refused(w: World) -> None:
    cast(Any, w.paid["openai"]).server.fail(
        "videos.retrieve", 401, times=2, code="invalid_api_key", message="Incorrect API key."
    )


def openai_base_url_without_v1(w: World) -> None:
    w.settings.openai_video_base_url = openai_server(w).base_url.removesuffix("/v1")


def veo_key_refused(w: World) -> None:
    w.settings.gemini_api_key = "not-the-key"


def runway_key_refused(w: World) -> None:
    w.settings.runwayml_api_secret = "key_wrong"


def llm_gateway_serves_only_videos(w: World) -> None:
    openai_server(w).videos_only = True


def moderation_key_refused(w: World) -> None:
    cast(Any, w.paid["openai"]).server.fail(
        "moderations", 401, times=2, code="invalid_api_key", message="Incorrect API key."
    )


def slack_token_refused(w: World) -> None:
    w.settings.slack_bot_token = "xoxb-revoked"


def slack_scope_missing(w: World) -> None:
    w.slack.scopes = tuple(s for s in MANIFEST_SCOPES if s != "files:write")


def discord_token_refused(w: World) -> None:
    w.settings.discord_bot_token = "not-a-token"


def expired_certificate(w: World) -> None:
    use_keys(
        w, create_dev_certificates(w.tmp / "old", valid_from=datetime.now(UTC) - timedelta(days=400), days=30)
    )


def use_keys(w: World, keys: DevCredentials) -> None:
    w.settings.c2pa_cert_chain, w.settings.c2pa_private_key = keys.signer.cert_chain, keys.signer.private_key


def key_of_another_chain(w: World) -> None:
    w.settings.c2pa_private_key = create_dev_certificates(w.tmp / "other").signer.private_key


def chain_with_a_foreign_root(w: World) -> None:
    assert w.settings.c2pa_cert_chain is not None
    leaf = w.settings.c2pa_cert_chain.read_bytes().split(b"-----END CERTIFICATE-----")[0]
    foreign_root = create_dev_certificates(w.tmp / "foreign").root.read_bytes()
    mixed = w.tmp / "mixed.pem"
    mixed.write_bytes(leaf + b"-----END CERTIFICATE-----\n" + foreign_root)
    w.settings.c2pa_cert_chain = mixed


def media_folder_not_writable(w: World) -> None:
    blocker = w.tmp / "a-file"
    blocker.write_text("not a folder")
    w.settings.data_dir = blocker


def unknown_provider(w: World) -> None:
    w.settings.provider = "bogus"


@pytest.mark.parametrize(
    ("breakage", "failing", "variable"),
    [
        (wrong_database, {"database"}, "CLIPDESK_DATABASE_URL"),
        (openai_key_refused, {"provider openai"}, "CLIPDESK_OPENAI_VIDEO_API_KEY"),
        (openai_base_url_without_v1, {"provider openai"}, "CLIPDESK_OPENAI_VIDEO_BASE_URL"),
        (veo_key_refused, {"provider veo"}, "GEMINI_API_KEY"),
        (runway_key_refused, {"provider runway"}, "RUNWAYML_API_SECRET"),
        (llm_gateway_serves_only_videos, {"refiner", "moderation"}, "OPENAI_BASE_URL"),
        (moderation_key_refused, {"moderation"}, "OPENAI_API_KEY"),
        (slack_token_refused, {"slack"}, "SLACK_BOT_TOKEN"),
        (slack_scope_missing, {"slack scopes"}, "SLACK_BOT_TOKEN"),
        (discord_token_refused, {"discord"}, "DISCORD_BOT_TOKEN"),
        (expired_certificate, {"C2PA keys"}, "CLIPDESK_C2PA_CERT_CHAIN"),
        (key_of_another_chain, {"C2PA keys"}, "CLIPDESK_C2PA_CERT_CHAIN"),
        (chain_with_a_foreign_root, {"C2PA keys"}, "CLIPDESK_C2PA_CERT_CHAIN"),
        (media_folder_not_writable, {"media folder"}, "CLIPDESK_DATA_DIR"),
        (unknown_provider, {"settings"}, "CLIPDESK_PROVIDER"),
    ],
)
async def test_one_broken_dependency_fails_its_check_alone_and_stops_serve(
    world: World, breakage: Callable[[World], None], failing: set[str], variable: str
) -> None:
    breakage(world)
    results = await run_checks(world.settings)
    failed = {r.name: r for r in results if r.level is Level.FAIL}
    assert set(failed) == failing, [(r.name, r.detail) for r in results if r.level is not Level.OK]
    assert {r.variable for r in failed.values()} == {variable}
    with pytest.raises(ConfigError) as refused:
        await refuse_to_start_on_fatal(world.settings)
    assert refused.value.variable == variable


async def test_what_is_down_or_soon_due_warns_without_stopping_serve(world: World) -> None:
    world.paid["runway"].go_down()
    world.settings.public_url = f"http://127.0.0.1:{unused_port()}"
    soon = create_dev_certificates(world.tmp / "soon", days=10)
    world.settings.c2pa_cert_chain, world.settings.c2pa_private_key = (
        soon.signer.cert_chain,
        soon.signer.private_key,
    )
    results = by_name(await run_checks(world.settings))
    assert not [r for r in results.values() if r.fatal]
    assert results["provider runway"].level is Level.WARN and "503" in results["provider runway"].detail
    assert results["public URL"].level is Level.WARN
    assert results["C2PA keys"].level is Level.WARN and "expires in 9 days" in results["C2PA keys"].detail
    await refuse_to_start_on_fatal(world.settings)


def test_doctor_wants_exactly_the_scopes_of_the_slack_manifest() -> None:
    manifest = yaml.safe_load((ROOT / "deploy" / "slack" / "manifest.yaml").read_text())
    assert set(SLACK_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"]) == set(MANIFEST_SCOPES)


async def test_the_speech_engine_is_checked_keyless_with_espeak_and_by_model_with_openai(
    world: World,
) -> None:
    keyless = by_name(await run_checks(world.settings.model_copy(update={"speech": "espeak"})))
    assert keyless["speech engine"].level is Level.OK and "eSpeak NG" in keyless["speech engine"].detail

    results = by_name(await run_checks(world.settings))
    assert results["speech engine"].level is Level.OK and "gpt-4o-mini-tts" in results["speech engine"].detail
    openai_server(world).missing_models.add("gpt-4o-mini-tts")
    missing = by_name(await run_checks(world.settings))["speech engine"]
    assert missing.level is Level.WARN and missing.variable == "CLIPDESK_SPEECH_MODEL"  # serve still starts
    await refuse_to_start_on_fatal(world.settings)
    off = by_name(await run_checks(world.settings.model_copy(update={"speech": "off"})))
    assert "speech engine" not in off
