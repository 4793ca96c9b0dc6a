"""Logging for every clipdesk command (structlog): JSON or console lines, flow ids as fields, quiet libraries.

``CLIPDESK_LOG_FORMAT=json`` writes one JSON object per line (the Docker image's
default) — ``timestamp``, ``level``, ``logger``, ``event`` and the ids bound for
the flow (:mod:`bot.log_context`: ``request_id``, ``render_id``, ``workspace``,
``platform`` …); ``console`` writes the same as readable text. Every line, also
from libraries through the standard ``logging`` module, goes through the same
processors, which redact tokens and secrets.

At INFO, APScheduler alone wrote four lines a second ("Running job …",
"executed successfully"), and Alembic, aiohttp, httpx and the SDKs added theirs.
Third-party loggers pass only warnings and errors unless the level is DEBUG,
where everything is shown for troubleshooting.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from bot import log_context

OWN = ("adapters", "bot", "storage", "clipdesk", "__main__", "bench")
FORMATS = ("console", "json")

# Credentials as they appear in text: Slack tokens, OpenAI-style keys, bearer headers, webhook secrets.
_SECRET_TEXT = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|sk-[A-Za-z0-9_-]{8,}|whsec_[A-Za-z0-9+/=]+"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]+)"
)
_SECRET_KEYS = re.compile(r"(?i)(token|secret|password|api_key|authorization)")


class _OwnOrWarning(logging.Filter):
    """Let clipdesk's records through at any level, everyone else's from WARNING up."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return record.name.split(".", 1)[0] in OWN


def _flow_fields(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in log_context.current().items():
        event.setdefault(key, value)
    return event


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """No secret reaches a log line: secret-named fields are masked, token-shaped text is cut."""
    for key, value in list(event.items()):
        if _SECRET_KEYS.search(key) and key != "event":
            event[key] = "[redacted]"
        elif isinstance(value, str):
            event[key] = _SECRET_TEXT.sub("[redacted]", value)
    return event


def configure_logging(level: str, fmt: str = "console") -> None:
    """Send logs to standard error at ``level`` (a name such as ``"INFO"``) as ``fmt``; idempotent."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    shared: list[Any] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _flow_fields,
    ]
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        final: list[Any] = [structlog.processors.format_exc_info, redact, renderer]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        final = [redact, renderer]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    if numeric > logging.DEBUG:
        handler.addFilter(_OwnOrWarning())
    logging.basicConfig(level=numeric, handlers=[handler], force=True)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
