"""Logging for every clipdesk command: clipdesk's own lines at the configured level, the rest quiet.

At INFO, APScheduler alone wrote four lines a second ("Running job …", "executed
successfully"), and Alembic, aiohttp, httpx and the SDKs added theirs. Third-party
loggers now pass only warnings and errors unless the level is DEBUG, where
everything is shown for troubleshooting.
"""

from __future__ import annotations

import logging
import sys

OWN = ("adapters", "bot", "storage", "clipdesk", "__main__")


class _OwnOrWarning(logging.Filter):
    """Let clipdesk's records through at any level, everyone else's from WARNING up."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return record.name.split(".", 1)[0] in OWN


def configure_logging(level: str) -> None:
    """Send logs to standard error at ``level`` (a name such as ``"INFO"``); idempotent."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if numeric > logging.DEBUG:
        handler.addFilter(_OwnOrWarning())
    logging.basicConfig(level=numeric, handlers=[handler], force=True)
