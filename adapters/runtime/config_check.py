"""Configuration mistakes found at start-up, each told in one line: the variable, what is wrong, what to do.

A wrong setting must never be silently ignored (a bogus provider falling back to the
animatic, an unknown price key doing nothing), nor end in a 150-line traceback whose
last line is the only useful one. :func:`validate` refuses the settings with a
:class:`ConfigError`; :func:`explain` turns the errors other layers raise for the same
reason (pydantic, the policy file, Slack, Discord) into one, so the command line can
print a single line and exit 2.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlparse

from pydantic import ValidationError

from adapters.providers.registry import PROVIDERS, is_configured, parse_prices
from adapters.runtime.settings import Settings, split_list
from bot.options import QUALITIES
from bot.ports import Capabilities

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MODES = {
    "refiner": ("auto", "offline", "openai"),
    "moderation": ("auto", "local", "openai"),
    "speech": ("auto", "espeak", "openai", "off"),
}


class ConfigError(Exception):
    """A setting clipdesk cannot start with.

    Args:
        variable: the environment variable, option or file to fix.
        problem: what is wrong with it.
        fix: what to do about it.
    """

    def __init__(self, variable: str, problem: str, fix: str) -> None:
        super().__init__(f"{variable}: {problem}; {fix}")
        self.variable = variable
        self.problem = problem
        self.fix = fix

    def one_line(self) -> str:
        """The message for a terminal: one line, no traceback."""
        return " ".join(f"clipdesk: {self.variable}: {self.problem}; {self.fix}".split())


def validate(settings: Settings, available_providers: Mapping[str, Capabilities]) -> None:
    """Refuse settings that cannot work, given the providers that were built from them.

    Raises:
        ConfigError: naming the first wrong setting.
    """
    validate_static(settings)
    if settings.provider not in available_providers:
        raise _unconfigured(settings.provider, "CLIPDESK_PROVIDER")
    for provider, models in parse_prices(settings.prices).items():
        caps = available_providers.get(provider)
        if caps is None:
            if provider not in PROVIDERS:
                raise ConfigError(
                    "CLIPDESK_PRICES",
                    f"`{provider}:{next(iter(models))}` names no provider clipdesk knows",
                    f"use one of {', '.join(PROVIDERS)}",
                )
            continue  # a known provider that is not configured here: its prices wait for its key
        names = [spec.name for spec in caps.models]
        for key in models:
            model, _, quality = key.partition("@")
            if model not in names:
                raise ConfigError(
                    "CLIPDESK_PRICES",
                    f"`{provider}:{key}` names no model of {provider}",
                    f"use one of {', '.join(f'{provider}:{n}' for n in names)}",
                )
            if quality and quality not in QUALITIES:
                raise ConfigError(
                    "CLIPDESK_PRICES",
                    f"`{provider}:{key}` has no quality `{quality}`",
                    "use @high or no suffix",
                )


def validate_static(settings: Settings) -> None:
    """The checks that need nothing built: numbers, words, URLs, files. Cheap; run by every command."""
    _check_database(settings.effective_database_url)
    _check_prices(settings)
    _check_numbers(settings)
    _check_words(settings)
    _check_signing(settings)
    if settings.policy_file is not None and not settings.policy_file.is_file():
        raise ConfigError(
            "CLIPDESK_POLICY_FILE",
            f"{settings.policy_file} does not exist",
            "point it at your policy file (start from clipdesk.example.toml) or unset it",
        )
    if settings.public_url and not _is_http_url(settings.public_url):
        raise ConfigError(
            "CLIPDESK_PUBLIC_URL",
            f"{settings.public_url!r} is not an http(s) URL",
            "set it to how people reach this server, e.g. https://clipdesk.example.com",
        )


def require_provider(settings: Settings, name: str, variable: str) -> None:
    """Refuse a provider name that is unknown or not configured (``variable`` names where it came from)."""
    if not is_configured(name, settings):
        raise _unconfigured(name, variable)


def _unconfigured(name: str, variable: str) -> ConfigError:
    setup = PROVIDERS.get(name)
    if setup is None:
        return ConfigError(
            variable, f"`{name}` is not a video provider clipdesk knows", f"use one of {', '.join(PROVIDERS)}"
        )
    return ConfigError(variable, f"`{name}` is not configured", f"to use it, {setup.how}")


def _check_database(url: str) -> None:
    scheme = url.split(":", 1)[0].lower()
    backend = scheme.split("+", 1)[0]
    if backend == "sqlite":
        return
    if backend in ("postgresql", "postgres"):
        if not _installed("psycopg"):
            raise ConfigError(
                "CLIPDESK_DATABASE_URL",
                "PostgreSQL needs the psycopg driver, which is not installed",
                "pip install 'clipdesk[postgres]'",
            )
        return
    raise ConfigError(
        "CLIPDESK_DATABASE_URL",
        f"`{scheme}` databases are not supported",
        "use postgresql://user:pass@host:5432/db, or unset it for SQLite in the data folder",
    )


def validate_providers(settings: Settings) -> None:
    """Provider names are known, the default one is configured, and what is configured is installed."""
    require_provider(settings, settings.provider, "CLIPDESK_PROVIDER")
    for name in split_list(settings.provider_order):
        if name not in PROVIDERS:
            raise _unconfigured(name, "CLIPDESK_PROVIDER_ORDER")
    for variable, wanted, module, extra in _EXTRAS:
        if wanted(settings) and not _installed(module):
            fix = f"pip install 'clipdesk[{extra}]'"
            raise ConfigError(variable, f"is set but {module} is not installed", fix)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package (google for google.genai)
        return False


# A setting that needs an optional extra: (variable, is it in use, the module it needs, the extra).
_EXTRAS: tuple[tuple[str, Callable[[Settings], bool], str, str], ...] = (
    ("SLACK_BOT_TOKEN", lambda s: bool(s.slack_bot_token), "slack_bolt", "slack"),
    ("DISCORD_BOT_TOKEN", lambda s: bool(s.discord_bot_token), "discord", "discord"),
    ("CLIPDESK_OPENAI_VIDEO_API_KEY", lambda s: is_configured("openai", s), "openai", "providers"),
    ("GEMINI_API_KEY", lambda s: is_configured("veo", s), "google.genai", "providers"),
    ("RUNWAYML_API_SECRET", lambda s: is_configured("runway", s), "runwayml", "providers"),
    ("OPENAI_API_KEY", lambda s: bool(s.openai_api_key), "openai", "providers"),
)


def _check_prices(settings: Settings) -> None:
    try:
        prices = parse_prices(settings.prices)
    except ValueError as exc:
        raise ConfigError(
            "CLIPDESK_PRICES",
            str(exc).removeprefix("CLIPDESK_PRICES "),
            "write provider:model=usd_per_second, …",
        ) from None
    for provider, models in prices.items():
        if any(price < 0 for price in models.values()):
            raise ConfigError(
                "CLIPDESK_PRICES", f"a price of {provider} is below zero", "use USD per second ≥ 0"
            )


# (setting, lowest allowed value, whether that value itself is allowed)
_LIMITS: tuple[tuple[str, float, bool], ...] = (
    ("worker_concurrency", 1, True),
    ("db_pool_size", 1, True),
    ("lease_seconds", 0, False),
    ("max_attempts", 1, True),
    ("retry_base_seconds", 0, False),
    ("retry_cap_seconds", 0, False),
    ("poll_start_seconds", 0, False),
    ("poll_cap_seconds", 0, False),
    ("tick_seconds", 0, False),
    ("render_timeout_seconds", 0, False),
    ("http_port", 0, True),
    ("auto_render_max_cost", 0, True),
    ("budget_user_monthly", 0, True),
    ("budget_channel_monthly", 0, True),
    ("budget_workspace_monthly", 0, True),
    ("review_expiry_hours", 0, False),
    ("retention_days", 0, False),
    ("watermark_opacity", 0, True),
)


def _check_numbers(settings: Settings) -> None:
    for name, lowest, inclusive in _LIMITS:
        value = getattr(settings, name)
        if value is None or value > lowest or (inclusive and value == lowest):
            continue
        bound = f"at least {lowest:g}" if inclusive else f"more than {lowest:g}"
        raise ConfigError(f"CLIPDESK_{name.upper()}", f"{value:g} is too small", f"set it to {bound}")
    if settings.http_port > 65535:
        raise ConfigError("CLIPDESK_HTTP_PORT", f"{settings.http_port} is not a port", "use 1–65535")
    if settings.watermark_opacity > 1:
        raise ConfigError(
            "CLIPDESK_WATERMARK_OPACITY", f"{settings.watermark_opacity:g} is above 1", "use 0–1"
        )


def _check_words(settings: Settings) -> None:
    if settings.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(
            "CLIPDESK_LOG_LEVEL",
            f"`{settings.log_level}` is not a log level",
            f"use one of {', '.join(LOG_LEVELS)}",
        )
    for name, allowed in MODES.items():
        value = getattr(settings, name)
        if value not in allowed:
            raise ConfigError(
                f"CLIPDESK_{name.upper()}", f"`{value}` is not a mode", f"use {', '.join(allowed)}"
            )
        if value == "openai" and not settings.openai_api_key:
            raise ConfigError(
                f"CLIPDESK_{name.upper()}",
                "is `openai` but OPENAI_API_KEY is not set",
                f"set OPENAI_API_KEY (and OPENAI_BASE_URL for a gateway), or CLIPDESK_{name.upper()}=auto",
            )
    from adapters.media.watermark import Corner

    corners = [corner.value for corner in Corner]
    if settings.watermark_position not in corners:
        raise ConfigError(
            "CLIPDESK_WATERMARK_POSITION",
            f"`{settings.watermark_position}` is not a corner",
            f"use {', '.join(corners)}",
        )


def _check_signing(settings: Settings) -> None:
    from adapters.media.provenance import ALGORITHMS

    if settings.c2pa_algorithm not in ALGORITHMS:
        raise ConfigError(
            "CLIPDESK_C2PA_ALGORITHM",
            f"`{settings.c2pa_algorithm}` is not a C2PA signing algorithm clipdesk supports",
            "use es256 or ps256",
        )
    chain, key = settings.c2pa_cert_chain, settings.c2pa_private_key
    if bool(chain) != bool(key):
        missing = "CLIPDESK_C2PA_PRIVATE_KEY" if chain else "CLIPDESK_C2PA_CERT_CHAIN"
        raise ConfigError(missing, "is not set but its pair is", "set both the certificate chain and its key")
    for variable, path in (("CLIPDESK_C2PA_CERT_CHAIN", chain), ("CLIPDESK_C2PA_PRIVATE_KEY", key)):
        if path is not None and not _readable(path):
            raise ConfigError(
                variable,
                f"{path} cannot be read by this process",
                "point it at the PEM file and let this user read it",
            )


def _readable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.R_OK)


def _is_http_url(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


# ---------------------------------------------------------------------- errors raised elsewhere


def explain(exc: BaseException) -> ConfigError | None:
    """The configuration mistake behind ``exc`` (or a cause of it), or ``None`` if it is not one."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _explain_one(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _explain_one(exc: BaseException) -> ConfigError | None:
    if isinstance(exc, ConfigError):
        return exc
    kind = f"{type(exc).__module__}.{type(exc).__name__}"
    if isinstance(exc, ValidationError):
        return _from_validation(exc)
    if kind == "bot.policy_file.PolicyFileError":
        where, _, reason = str(exc).partition(": ")
        return ConfigError(
            where, reason, "correct the policy file (clipdesk.example.toml shows every setting)"
        )
    if kind == "discord.errors.LoginFailure":
        return ConfigError(
            "DISCORD_BOT_TOKEN",
            "was refused by Discord (improper token)",
            "copy the token from Developer Portal → Bot → Reset Token",
        )
    if kind in ("adapters.slack.platform.SlackConfigError", "bot.errors.ModerationMisconfigured"):
        message = str(exc)
        variable = getattr(exc, "variable", None) or _first_variable(message) or "settings"
        problem = message.removeprefix(f"{variable} ").rstrip(".")
        return ConfigError(variable, problem, "fix the setting and start again (`clipdesk doctor` checks it)")
    return None


def _first_variable(message: str) -> str | None:
    match = re.search(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", message)
    return match.group(0) if match else None


def _from_validation(exc: ValidationError) -> ConfigError:
    errors = exc.errors()
    if not errors:
        return ConfigError("settings", str(exc), "correct the value")
    first = errors[0]
    field = str(first["loc"][0]) if first["loc"] else "settings"
    variable = field if field.isupper() else f"CLIPDESK_{field.upper()}"  # an alias is the variable itself
    value = first.get("input")
    shown = f"{value!r} " if isinstance(value, str | int | float) else ""
    return ConfigError(variable, f"{shown}is not valid ({first['msg'].lower()})", "correct the value")
