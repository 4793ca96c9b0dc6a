"""`clipdesk doctor` and `clipdesk health`: check every dependency an operator configured, in one table.

:func:`run_checks` is what ``serve`` runs at start as well: a ``fail`` result is a
configuration mistake (a refused key, an endpoint that serves no such API, keys that
cannot sign) and stops start-up; a ``warn`` is worth knowing but need not stop
anything (a provider that is down today, a certificate that expires next month).

Checks plug in with :func:`check` (always run when their ``applies`` says so) and
:func:`provider_check` (run for each configured video provider): adding a provider
means registering one function, nothing here changes.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from adapters.runtime.config_check import ConfigError, validate_providers, validate_static
from adapters.runtime.settings import Settings

CHECK_SECONDS = 15.0  # one check's limit: doctor never hangs on an endpoint that does not answer
MIN_FREE_BYTES = 1 << 30
EXPIRY_WARN_DAYS = 30


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckResult:
    """One line of the doctor's table. ``variable`` names the setting to look at when it is not ok."""

    name: str
    level: Level
    detail: str
    variable: str = ""

    @property
    def fatal(self) -> bool:
        return self.level is Level.FAIL

    def as_error(self) -> ConfigError:
        return ConfigError(self.variable or self.name, self.detail, "`clipdesk doctor` shows every check")


Check = Callable[[Settings], Awaitable[list[CheckResult]]]
_CHECKS: list[tuple[Callable[[Settings], bool], Check]] = []
PROVIDER_CHECKS: dict[str, Check] = {}


def check(applies: Callable[[Settings], bool] = lambda _: True) -> Callable[[Check], Check]:
    """Register a check that runs whenever ``applies(settings)`` is true."""

    def register(fn: Check) -> Check:
        _CHECKS.append((applies, fn))
        return fn

    return register


def provider_check(name: str) -> Callable[[Check], Check]:
    """Register the credentials check of video provider ``name`` (run when it is configured)."""

    def register(fn: Check) -> Check:
        PROVIDER_CHECKS[name] = fn
        return fn

    return register


async def run_checks(settings: Settings) -> list[CheckResult]:
    """Every check that applies to ``settings``, run at once, each within :data:`CHECK_SECONDS`."""
    from adapters.providers.registry import is_configured
    from adapters.runtime import doctor_remote, doctor_speech  # noqa: F401  (importing registers their checks)

    try:
        validate_static(settings)
        validate_providers(settings)
    except ConfigError as exc:
        return [CheckResult("settings", Level.FAIL, f"{exc.problem}; {exc.fix}", exc.variable)]
    checks = [fn for applies, fn in _CHECKS if applies(settings)]
    checks += [fn for name, fn in PROVIDER_CHECKS.items() if is_configured(name, settings)]
    groups = await asyncio.gather(*(_bounded(fn, settings) for fn in checks))
    settings_ok = CheckResult("settings", Level.OK, "every setting is well-formed")
    return [settings_ok, *(result for group in groups for result in group)]


async def _bounded(fn: Check, settings: Settings) -> list[CheckResult]:
    name = fn.__name__.removeprefix("check_").replace("_", " ")
    try:
        return await asyncio.wait_for(fn(settings), CHECK_SECONDS)
    except TimeoutError:
        return [CheckResult(name, Level.WARN, f"no answer within {CHECK_SECONDS:g} s")]
    except Exception as exc:  # a check that breaks says so in its row instead of hiding the others
        return [CheckResult(name, Level.FAIL, f"{type(exc).__name__}: {exc}")]


def first_fatal(results: list[CheckResult]) -> CheckResult | None:
    return next((result for result in results if result.fatal), None)


async def refuse_to_start_on_fatal(settings: Settings) -> None:
    """What ``serve`` and ``worker`` run first: raise the first fatal check as a :class:`ConfigError`."""
    import logging

    results = await run_checks(settings)
    fatal = first_fatal(results)
    if fatal is not None:
        raise fatal.as_error()
    log = logging.getLogger(__name__)
    for result in results:
        if result.level is Level.WARN:
            log.warning("%s: %s", result.name, result.detail)


def render_table(results: list[CheckResult]) -> object:
    """The results as one rich table."""
    from rich.table import Table

    styles = {Level.OK: "green", Level.WARN: "yellow", Level.FAIL: "bold red"}
    table = Table(title="clipdesk doctor", show_lines=False)
    for column in ("check", "result", "detail", "setting"):
        table.add_column(column)
    for result in results:
        style = styles[result.level]
        table.add_row(result.name, f"[{style}]{result.level.value}[/{style}]", result.detail, result.variable)
    return table


# ---------------------------------------------------------------------- database


def database_state(settings: Settings) -> tuple[bool, bool, str]:
    """(reachable, schema current, one line saying which), blocking; used by `health` and the doctor."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from storage.database import alembic_config, is_sqlite, sync_url

    url = settings.effective_database_url
    connect_args: dict[str, object] = {}
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:" and not Path(database).exists():
            return False, False, f"no database file at {database} yet (run `clipdesk db upgrade`)"
    else:
        connect_args["connect_timeout"] = 5
    engine = create_engine(sync_url(url), connect_args=connect_args)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return False, False, f"database unreachable: {reason}"
    finally:
        engine.dispose()
    heads = {rev.revision for rev in ScriptDirectory.from_config(alembic_config(url)).get_revisions("heads")}
    if current == heads:
        return True, True, f"database reachable, schema at {', '.join(sorted(heads))}"
    return True, False, "database reachable, migrations pending (run `clipdesk db upgrade`)"


def wait_for_health(settings: Settings, wait_seconds: float = 0.0) -> tuple[bool, str]:
    """Healthy = database reachable and schema current; with ``wait_seconds``, retry until then."""
    deadline = time.monotonic() + wait_seconds
    while True:
        reachable, current, line = database_state(settings)
        if reachable and current:
            return True, line
        if time.monotonic() >= deadline:
            return False, line
        time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))


@check()
async def check_database(settings: Settings) -> list[CheckResult]:
    reachable, current, line = await asyncio.to_thread(database_state, settings)
    if not reachable and "no database file" not in line:
        return [CheckResult("database", Level.FAIL, line, "CLIPDESK_DATABASE_URL")]
    level = Level.OK if current else Level.WARN  # serve applies pending migrations itself
    return [CheckResult("database", level, line, "" if current else "CLIPDESK_DATABASE_URL")]


# ---------------------------------------------------------------------- files


@check()
async def check_media_folder(settings: Settings) -> list[CheckResult]:
    return [await asyncio.to_thread(_media_folder, settings.media_dir)]


def _media_folder(folder: Path) -> CheckResult:
    probe = folder / f".doctor-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"clipdesk")
        probe.unlink()
    except OSError as exc:
        detail = f"{folder} is not writable: {exc.strerror}"
        return CheckResult("media folder", Level.FAIL, detail, "CLIPDESK_DATA_DIR")
    free = shutil.disk_usage(folder).free
    detail = f"{folder} writable, {free / (1 << 30):.1f} GiB free"
    if free < MIN_FREE_BYTES:
        return CheckResult("media folder", Level.WARN, detail + " (under 1 GiB)", "CLIPDESK_DATA_DIR")
    return CheckResult("media folder", Level.OK, detail)


@check()
async def check_signing_keys(settings: Settings) -> list[CheckResult]:
    return [await asyncio.to_thread(signing_keys, settings)]


def signing_keys(settings: Settings, now: datetime | None = None) -> CheckResult:
    """The C2PA chain and key: readable, the chain signed link by link, days until the first expiry."""
    from adapters.media.provenance import SignerConfig

    name = "C2PA keys"
    if settings.c2pa_cert_chain and settings.c2pa_private_key:
        config = SignerConfig(settings.c2pa_cert_chain, settings.c2pa_private_key, settings.c2pa_algorithm)
        variable = "CLIPDESK_C2PA_CERT_CHAIN"
    elif settings.c2pa_dev_keys:
        folder = settings.data_dir / "keys"
        config = SignerConfig(folder / "chain.pem", folder / "signer.key")
        if not config.cert_chain.exists():
            return CheckResult(name, Level.WARN, f"no keys yet: a development chain is made in {folder}")
        variable = "CLIPDESK_C2PA_DEV_KEYS"
    else:
        return CheckResult(name, Level.WARN, "clips are not signed (no chain, development keys off)")
    return _chain_result(config, variable, now or datetime.now(UTC))


def _chain_result(config: object, variable: str, now: datetime) -> CheckResult:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    from adapters.media.provenance import SignerConfig, check_signer
    from bot.errors import MediaError

    assert isinstance(config, SignerConfig)
    try:
        chain_pem, _ = check_signer(config, now)
        certs = x509.load_pem_x509_certificates(chain_pem)
        for cert, issuer in itertools.pairwise(certs):
            cert.verify_directly_issued_by(issuer)
    except MediaError as exc:
        return CheckResult("C2PA keys", Level.FAIL, str(exc), variable)
    except (InvalidSignature, ValueError, TypeError) as exc:  # a broken link in the chain
        detail = f"{config.cert_chain}: a certificate is not signed by the next ({exc or 'bad signature'})"
        return CheckResult("C2PA keys", Level.FAIL, detail, variable)
    expires = min(cert.not_valid_after_utc for cert in certs)
    days = (expires - now).days
    detail = f"{config.cert_chain}: chain valid, expires in {days} days ({expires:%Y-%m-%d})"
    level = Level.WARN if days < EXPIRY_WARN_DAYS else Level.OK
    return CheckResult("C2PA keys", level, detail, variable if level is Level.WARN else "")
