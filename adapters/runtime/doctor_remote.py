"""The doctor's checks that call a service: video providers, the LLM endpoint, Slack, Discord, the public URL.

Each makes the cheapest call that proves the credentials through the service's own
SDK where clipdesk uses one: asking a provider for a job that does not exist costs
nothing, and "not found" (in the API's own error format) means the key was accepted
and the endpoint speaks that API. A refused key or an endpoint that serves no such API
is a ``fail``; an unreachable or failing service is a ``warn`` (an outage, not a
mistake in the settings).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import aiohttp

from adapters.runtime.doctor import CheckResult, Level, check, provider_check
from adapters.runtime.settings import Settings

# The bot scopes of deploy/slack/manifest.yaml (tests/ops/test_doctor.py keeps the two in step).
SLACK_SCOPES = (
    "commands",
    "chat:write",
    "files:write",
    "app_mentions:read",
    "im:history",
    "channels:history",
    "usergroups:read",
)
DOCTOR_JOB = "clipdesk-doctor-check"  # a job id no provider has
TIMEOUT = aiohttp.ClientTimeout(total=10)


def _missing_extra(name: str, extra: str) -> CheckResult:
    return CheckResult(name, Level.FAIL, f"its SDK is not installed: pip install 'clipdesk[{extra}]'")


# ---------------------------------------------------------------------- video providers


@dataclass(frozen=True)
class _Endpoint:
    """A provider reached through a Stainless-generated SDK (openai, runwayml: the same error classes)."""

    name: str
    base_url: str
    key_variable: str
    url_variable: str


async def _ask_for_a_missing_job(sdk: Any, endpoint: _Endpoint, lookup: Awaitable[object]) -> CheckResult:
    """Await ``lookup`` (a job that does not exist): the API's own 404 means the key works."""
    name, base = endpoint.name, endpoint.base_url
    try:
        await lookup
    except sdk.NotFoundError as exc:
        if isinstance(exc.body, dict):  # the API's own "no such job", not a web server's "no such page"
            return CheckResult(name, Level.OK, f"{base}: key accepted")
        detail = f"{base} answers 404 with no API error: is it the API root (…/v1)?"
        return CheckResult(name, Level.FAIL, detail, endpoint.url_variable)
    except (sdk.AuthenticationError, sdk.PermissionDeniedError) as exc:
        detail = f"{base} refused the key ({exc.status_code})"
        return CheckResult(name, Level.FAIL, detail, endpoint.key_variable)
    except sdk.APIConnectionError as exc:
        return CheckResult(name, Level.WARN, f"{base} unreachable: {exc}", endpoint.url_variable)
    except sdk.APIStatusError as exc:
        return CheckResult(name, Level.WARN, f"{base} answered {exc.status_code}")
    return CheckResult(name, Level.WARN, f"{base} found a job named {DOCTOR_JOB}?")


@provider_check("openai")
async def check_openai_videos(settings: Settings) -> list[CheckResult]:
    try:
        import openai
    except ImportError:
        return [_missing_extra("provider openai", "providers")]
    base = settings.video_base_url or ""
    endpoint = _Endpoint(
        "provider openai", base, "CLIPDESK_OPENAI_VIDEO_API_KEY", "CLIPDESK_OPENAI_VIDEO_BASE_URL"
    )
    client = openai.AsyncOpenAI(api_key=settings.video_api_key, base_url=base, max_retries=0, timeout=10)
    try:
        return [await _ask_for_a_missing_job(openai, endpoint, client.videos.retrieve(DOCTOR_JOB))]
    finally:
        await client.close()


@provider_check("veo")
async def check_veo(settings: Settings) -> list[CheckResult]:
    name = "provider veo"
    variable = "CLIPDESK_VEO_VERTEX_PROJECT" if settings.veo_vertex_project else "GEMINI_API_KEY"
    try:
        from google.genai import errors, types

        from adapters.providers import veo
    except ImportError:
        return [_missing_extra(name, "providers")]
    try:
        client = veo.make_client(
            api_key=settings.gemini_api_key,
            project=settings.veo_vertex_project,
            location=settings.veo_vertex_location,
            base_url=settings.veo_base_url,
            timeout_ms=10_000,
        )
    except Exception as exc:  # e.g. no application default credentials for the project
        return [CheckResult(name, Level.FAIL, f"cannot build the client: {exc}", variable)]
    prefix = (
        f"projects/{settings.veo_vertex_project}/locations/{settings.veo_vertex_location}/"
        if settings.veo_vertex_project
        else ""
    )
    operation = f"{prefix}publishers/google/models/{settings.veo_model}/operations/{DOCTOR_JOB}"
    try:
        await client.aio.operations.get(types.GenerateVideosOperation.model_validate({"name": operation}))
    except errors.ClientError as exc:
        if exc.code == 404:
            return [CheckResult(name, Level.OK, f"{settings.veo_model}: credentials accepted")]
        if exc.code in (401, 403):
            detail = f"credentials refused ({exc.code}: {exc.message})"
            return [CheckResult(name, Level.FAIL, detail, variable)]
        return [CheckResult(name, Level.WARN, f"answered {exc.code}: {exc.message}", variable)]
    except errors.ServerError as exc:
        return [CheckResult(name, Level.WARN, f"answered {exc.code}: {exc.message}")]
    except Exception as exc:  # google-genai raises its transport's errors as they are
        detail = f"unreachable: {type(exc).__name__}: {exc}"
        return [CheckResult(name, Level.WARN, detail, "CLIPDESK_VEO_BASE_URL")]
    finally:
        await client.aio.aclose()
    return [CheckResult(name, Level.WARN, f"found an operation named {DOCTOR_JOB}?")]


@provider_check("runway")
async def check_runway(settings: Settings) -> list[CheckResult]:
    try:
        import runwayml

        from adapters.providers import runway
    except ImportError:
        return [_missing_extra("provider runway", "providers")]
    client = runway.make_client(
        api_key=settings.runwayml_api_secret or "", base_url=settings.runwayml_base_url, timeout=10
    )
    endpoint = _Endpoint("provider runway", str(client.base_url), "RUNWAYML_API_SECRET", "RUNWAYML_BASE_URL")
    try:
        lookup = client.tasks.retrieve("00000000-0000-4000-8000-000000000000")  # a task id Runway never gives
        return [await _ask_for_a_missing_job(runwayml, endpoint, lookup)]
    finally:
        await client.close()


# ---------------------------------------------------------------------- LLM endpoint


def _uses_llm(settings: Settings) -> bool:
    auto = bool(settings.openai_api_key)
    return (
        settings.refiner == "openai"
        or settings.moderation == "openai"
        or (auto and "auto" in (settings.refiner, settings.moderation))
    )


@check(_uses_llm)
async def check_llm_endpoint(settings: Settings) -> list[CheckResult]:
    """The refiner's chat model and the moderation endpoint, as clipdesk will call them."""
    try:
        import openai

        from adapters.llm.openai_moderation import OpenAIModerator, misconfigured
    except ImportError:
        return [_missing_extra("LLM endpoint", "providers")]
    from bot.errors import ModerationMisconfigured

    base = settings.openai_base_url or "https://api.openai.com/v1"
    client = openai.AsyncOpenAI(api_key=settings.openai_api_key, base_url=base, max_retries=0, timeout=10)
    results: list[CheckResult] = []
    try:
        if settings.refiner == "openai" or (settings.refiner == "auto" and settings.openai_api_key):
            try:
                await client.chat.completions.create(
                    model=settings.refiner_model,
                    messages=[{"role": "user", "content": "Reply with OK."}],
                    max_completion_tokens=16,
                )
                detail = f"{settings.refiner_model} at {base} answers"
                results.append(CheckResult("refiner", Level.OK, detail))
            except (openai.NotFoundError, openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                error = misconfigured(exc, base, "chat/completions", "CLIPDESK_REFINER=offline")
                results.append(CheckResult("refiner", Level.FAIL, str(error), error.variable))
            except openai.APIError as exc:
                results.append(CheckResult("refiner", Level.WARN, f"{base}: {exc}"))
        if settings.moderation == "openai" or (settings.moderation == "auto" and settings.openai_api_key):
            try:
                await OpenAIModerator(client, settings.moderation_model).check("clipdesk doctor check")
                results.append(CheckResult("moderation", Level.OK, f"{settings.moderation_model} answers"))
            except ModerationMisconfigured as exc:
                results.append(CheckResult("moderation", Level.FAIL, str(exc), exc.variable))
            except openai.APIError as exc:
                results.append(CheckResult("moderation", Level.WARN, f"{base}: {exc}"))
    finally:
        await client.close()
    return results


# ---------------------------------------------------------------------- chat platforms


@check(lambda s: bool(s.slack_bot_token))
async def check_slack(settings: Settings) -> list[CheckResult]:
    try:
        from slack_sdk.errors import SlackApiError

        from adapters.slack.client import web_client
    except ImportError:
        return [_missing_extra("slack", "slack")]
    client = web_client(settings.slack_bot_token or "", settings.slack_api_url, timeout=10)
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error")
        return [CheckResult("slack", Level.FAIL, f"token refused by Slack: {error}", "SLACK_BOT_TOKEN")]
    except aiohttp.ClientError as exc:
        return [CheckResult("slack", Level.WARN, f"{settings.slack_api_url} unreachable: {exc}")]
    who = f"{auth.get('user')} in {auth.get('team')}"
    results = [CheckResult("slack", Level.OK, f"connected as {who}"), _slack_scopes(auth.headers)]
    if not (settings.slack_app_token or settings.slack_signing_secret):
        detail = "serve receives nothing without SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)"
        results.append(CheckResult("slack events", Level.WARN, detail, "SLACK_APP_TOKEN"))
    return results


def _slack_scopes(headers: dict[str, Any]) -> CheckResult:
    raw = next((str(v) for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
    if raw is None:
        return CheckResult("slack scopes", Level.WARN, "Slack did not report the token's scopes")
    granted = {scope.strip() for scope in raw.split(",") if scope.strip()}
    missing = [scope for scope in SLACK_SCOPES if scope not in granted]
    if missing:
        detail = (
            f"missing {', '.join(missing)}: add them under OAuth & Permissions (deploy/slack/manifest.yaml "
            "lists them) and reinstall the app"
        )
        return CheckResult("slack scopes", Level.FAIL, detail, "SLACK_BOT_TOKEN")
    return CheckResult("slack scopes", Level.OK, f"all {len(SLACK_SCOPES)} scopes of the manifest granted")


@check(lambda s: bool(s.discord_bot_token))
async def check_discord(settings: Settings) -> list[CheckResult]:
    base = (settings.discord_api_url or "https://discord.com/api").rstrip("/")
    if not re.search(r"/v\d+$", base):
        base += "/v10"
    headers = {"Authorization": f"Bot {settings.discord_bot_token}", "User-Agent": "clipdesk doctor"}
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.get(f"{base}/users/@me", headers=headers) as response,
        ):
            body = await response.json(content_type=None) if response.status == 200 else None
            status = response.status
    except aiohttp.ClientError as exc:
        return [CheckResult("discord", Level.WARN, f"{base} unreachable: {exc}")]
    if status in (401, 403):
        detail = f"token refused by Discord ({status})"
        return [CheckResult("discord", Level.FAIL, detail, "DISCORD_BOT_TOKEN")]
    if status != 200 or not isinstance(body, dict):
        return [CheckResult("discord", Level.WARN, f"{base}/users/@me answered {status}")]
    return [CheckResult("discord", Level.OK, f"logged in as {body.get('username')} ({body.get('id')})")]


# ---------------------------------------------------------------------- public URL


@check(lambda s: bool(s.public_url))
async def check_public_url(settings: Settings) -> list[CheckResult]:
    """Well-formed is checked with the settings; here: does anything answer there?"""
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.get(settings.public_url, allow_redirects=False) as response,
        ):
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        detail = f"{settings.public_url} unreachable from here: {exc or type(exc).__name__}"
        return [CheckResult("public URL", Level.WARN, detail, "CLIPDESK_PUBLIC_URL")]
    return [CheckResult("public URL", Level.OK, f"{settings.public_url} answers ({status})")]
