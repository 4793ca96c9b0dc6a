"""The ``clipdesk`` command.

A configuration mistake ends a command with one line on standard error (the
variable, what is wrong, what to do) and exit code 2; ``--debug`` or
``CLIPDESK_LOG_LEVEL=DEBUG`` shows the full traceback instead (see :func:`main`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Coroutine
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from adapters.runtime.cli_tokens import review_app, tokens_app
from adapters.runtime.config_check import (
    ConfigError,
    explain,
    require_provider,
    validate_providers,
    validate_static,
)
from adapters.runtime.logs import configure_logging
from adapters.runtime.settings import Settings
from bot.domain import RequestOptions
from bot.domain_events import AuditEvent

app = typer.Typer(help="clipdesk: on-demand AI video, reviewed in the thread.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.")
app.add_typer(db_app, name="db")
audit_app = typer.Typer(help="The audit trail: export it, summarise a month.")
app.add_typer(audit_app, name="audit")
app.add_typer(tokens_app, name="tokens")
app.add_typer(review_app, name="review")
console = Console(highlight=False)
_debug = {"on": False}  # --debug, or DEBUG logging: show tracebacks instead of one-line errors


def _settings(*, validate: bool = True, **overrides: object) -> Settings:
    settings = Settings()
    if settings.log_level.upper() == "DEBUG" or _debug["on"]:
        _debug["on"] = True
        overrides["log_level"] = "DEBUG"
    for key, value in overrides.items():
        if value is not None:
            setattr(settings, key, value)
    configure_logging(settings.log_level, settings.log_format)
    if validate:
        validate_static(settings)
        validate_providers(settings)
    return settings


def _version(value: bool) -> None:
    if value:
        print(f"clipdesk {metadata.version('clipdesk')}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Full tracebacks and every library's log lines.")
    ] = False,
) -> None:
    """clipdesk: on-demand AI video, reviewed in the thread."""
    _debug["on"] = debug


@app.command()
def demo(
    text: Annotated[str, typer.Argument(help="What the video should show.")] = (
        "a 8s product demo of our steel water bottle on a kitchen counter"
    ),
    provider: Annotated[str | None, typer.Option(help="Render on this provider.")] = None,
    seconds: Annotated[int | None, typer.Option(help="Clip length in seconds.")] = None,
    aspect: Annotated[str | None, typer.Option(help="16:9, 9:16 or 1:1.")] = None,
    variants: Annotated[int | None, typer.Option(help="How many takes to render (1-4).")] = None,
    quality: Annotated[str | None, typer.Option(help="standard or high.")] = None,
    model: Annotated[str | None, typer.Option(help="The provider's model, e.g. sora-2-pro.")] = None,
    audience: Annotated[str | None, typer.Option(help='Explainers: who it is for, e.g. "age 14".')] = None,
    captions: Annotated[
        str | None, typer.Option(help="Explainers: burn, off, or a language to translate captions to (es).")
    ] = None,
    shots: Annotated[int | None, typer.Option(help="Make a multi-shot cut of this many shots.")] = None,
    draft: Annotated[bool, typer.Option("--draft", help="Render at the draft tier first.")] = False,
) -> None:
    """Run one request end to end in this terminal and print the MP4's path last.

    Without keys it renders on the local animatic: a storyboard preview of the brief's
    shots (title cards and camera moves), not AI video.
    """
    from adapters.console.chat import ConsoleChat
    from adapters.console.session import run_demo
    from adapters.runtime.container import build_app

    settings = _settings(log_level="WARNING" if Settings().log_level == "INFO" else None)
    settings.poll_start_seconds = min(settings.poll_start_seconds, 0.5)
    if provider is not None:
        require_provider(settings, provider, "--provider")
    # The flags go to the core typed, exactly as Discord's options do; the text keeps its own words.
    options = RequestOptions(
        seconds=seconds,
        aspect=aspect,
        provider=provider,
        model=model,
        variants=variants or 1,
        quality=quality or "standard",
        audience=audience,
        captions=captions,
        shots=shots,
        draft=True if draft else None,
    )

    async def main() -> Path | None:
        chat = ConsoleChat(console)
        clipdesk = await build_app(settings, chat_ports=[chat])
        try:
            return await run_demo(clipdesk, chat, text, options)
        finally:
            await clipdesk.close()

    clip = asyncio.run(main())
    if clip is None:
        console.print("No clip was made (see the messages above).")
        raise typer.Exit(2)
    print(clip.resolve())


@app.command()
def chat() -> None:
    """An interactive console thread: /video, approve, regenerate, edit, reject."""
    from adapters.console.chat import ConsoleChat
    from adapters.console.recovery import release_dead_local_leases
    from adapters.console.session import run_chat
    from adapters.runtime.container import build_app
    from adapters.runtime.scheduler import start_loops

    settings = _settings(log_level="WARNING" if Settings().log_level == "INFO" else None)
    settings.poll_start_seconds = min(settings.poll_start_seconds, 0.5)

    async def main() -> None:
        port = ConsoleChat(console)
        clipdesk = await build_app(settings, chat_ports=[port])
        # Renders a previous run left unfinished resume now, not only when a worker is started.
        await release_dead_local_leases(clipdesk)
        loops = start_loops(clipdesk)
        try:
            await run_chat(clipdesk, port, console)
        finally:
            await loops.stop()
            await clipdesk.close()

    asyncio.run(main())


@app.command()
def serve() -> None:
    """Apply migrations, then run the configured chat adapters, the web app and a worker."""
    from adapters.runtime.server import run_server

    asyncio.run(_until_signalled(run_server(_settings(), render=True)))


@app.command()
def worker() -> None:
    """Run a render worker alone (scale out by starting more of these against PostgreSQL)."""
    from adapters.runtime.server import run_worker

    asyncio.run(_until_signalled(run_worker(_settings())))


keys_app = typer.Typer(help="C2PA signing keys.")
app.add_typer(keys_app, name="keys")


@keys_app.command("init")
def keys_init(
    folder: Annotated[Path | None, typer.Option(help="Where to write (default: <data dir>/keys).")] = None,
    algorithm: Annotated[str, typer.Option(help="es256 or ps256.")] = "es256",
    days: Annotated[int, typer.Option(help="How long the signing certificate is valid.")] = 365,
    force: Annotated[bool, typer.Option("--force", help="Replace keys that are already there.")] = False,
) -> None:
    """Create a LOCAL DEVELOPMENT certificate chain for C2PA signing (not for production)."""
    from adapters.media.provenance import ALGORITHMS, create_dev_certificates

    settings = _settings(log_level="WARNING")
    if algorithm not in ALGORITHMS:
        raise ConfigError(
            "--algorithm", f"`{algorithm}` is not a C2PA signing algorithm here", "use es256 or ps256"
        )
    target = folder or settings.data_dir / "keys"
    existing = [name for name in ("chain.pem", "signer.key", "root.pem") if (target / name).exists()]
    if existing and not force:
        raise ConfigError(
            "--folder",
            f"{target} already holds {', '.join(existing)}",
            "pass --force to replace them (clips signed before keep their signature), or another --folder",
        )
    creds = create_dev_certificates(target, algorithm=algorithm, days=days)
    console.print(f"wrote {creds.signer.cert_chain}, {creds.signer.private_key} and {creds.root}")
    console.print(
        "Set CLIPDESK_C2PA_CERT_CHAIN and CLIPDESK_C2PA_PRIVATE_KEY to use them; readers will show the "
        "signer as untrusted unless they trust root.pem. In production use a certificate from a CA on "
        "the C2PA trust list."
    )


@app.command()
def health(
    wait: Annotated[float, typer.Option(help="Keep trying this many seconds before giving up.")] = 0.0,
) -> None:
    """Exit 0 if the database answers and its schema is current, 1 if not; one line either way.

    Serves no port, so it is the health check of workers too (Docker HEALTHCHECK, Kubernetes probes).
    """
    from adapters.runtime.doctor import wait_for_health

    try:
        healthy, line = wait_for_health(_settings(log_level="ERROR", validate=False), wait)
    except Exception as exc:  # Docker reserves exit code 2: whatever is wrong, a probe answers 1
        problem = explain(exc)
        healthy, line = False, problem.one_line() if problem else f"{type(exc).__name__}: {exc}"
    print(f"{'healthy' if healthy else 'unhealthy'}: {line}")
    raise typer.Exit(0 if healthy else 1)


@app.command()
def doctor() -> None:
    """Check every configured dependency (database, providers, LLM, Slack, Discord, keys, disk)."""
    from adapters.runtime.doctor import first_fatal, render_table, run_checks

    settings = _settings(log_level="ERROR", validate=False)  # a wrong setting is a row of the table
    results = asyncio.run(run_checks(settings))
    console.print(render_table(results))
    raise typer.Exit(1 if first_fatal(results) else 0)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending database migrations."""
    from storage.database import upgrade

    settings = _settings()
    url = settings.effective_database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    applied = upgrade(url)  # under a lock: processes starting together take turns
    console.print(f"database at head ({len(applied)} migration(s) applied)")


def _parse_day(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-11-01 or 2026-11-01T09:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _audit_events(settings: Settings, since: datetime | None) -> list[AuditEvent]:
    from storage.database import make_engine
    from storage.repository import SqlStore

    store = SqlStore(make_engine(settings.effective_database_url))
    try:
        return await store.audit.audit_events(since)
    finally:
        await store.close()


@audit_app.command("export")
def audit_export(
    since: Annotated[str | None, typer.Option(help="Only events at or after this date (UTC).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "jsonl",
    output: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """Write every audit event (who did what, when, on which platform) as CSV or JSON Lines."""
    from bot.audit_report import export

    if fmt not in ("csv", "jsonl"):
        raise typer.BadParameter("--format must be csv or jsonl")
    settings = _settings(log_level="WARNING")
    text = export(asyncio.run(_audit_events(settings, _parse_day(since))), fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")


@audit_app.command("summary")
def audit_summary(
    month: Annotated[str | None, typer.Option(help="The month, e.g. 2026-11 (default: this month).")] = None,
) -> None:
    """Requests, approvals, rejections with reasons, spend and blocked requests per workspace."""
    from bot.audit_report import monthly_summary, summary_text

    settings = _settings(log_level="WARNING")
    when = _parse_day(f"{month}-01") if month else datetime.now(UTC)
    assert when is not None
    events = asyncio.run(_audit_events(settings, None))
    sys.stdout.write(summary_text(monthly_summary(events, when), when))


async def _until_signalled(coro: Coroutine[Any, Any, None]) -> None:
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(coro)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main() -> None:
    """The console script: a configuration mistake is one line on standard error and exit code 2."""
    try:
        app()
    except Exception as exc:
        problem = explain(exc)
        if problem is None or _debug["on"] or os.environ.get("CLIPDESK_LOG_LEVEL", "").upper() == "DEBUG":
            raise
        sys.stderr.write(problem.one_line() + "\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
