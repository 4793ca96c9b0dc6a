"""Fields every log line of a flow carries (request, render, workspace, platform ids), as a contextvar.

The core binds them where a flow starts (a render being driven, a delivery, an
ask being refined); asyncio tasks copy the context when they are created, so a
binding stays inside its flow. The logging adapter adds the fields to each line
(as JSON fields, or ``key=value`` on the console). Standard library only.
"""

from __future__ import annotations

from contextvars import ContextVar

_FIELDS: ContextVar[dict[str, str]] = ContextVar("clipdesk_log_fields", default={})  # noqa: B039 - never mutated


def bind(**fields: str | None) -> None:
    """Add ``fields`` (``None`` values are skipped) to every later log line of this task."""
    merged = dict(_FIELDS.get())
    merged.update({key: value for key, value in fields.items() if value})
    _FIELDS.set(merged)


def current() -> dict[str, str]:
    return _FIELDS.get()
