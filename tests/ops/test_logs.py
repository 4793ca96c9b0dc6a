"""Quiet by default: clipdesk's own lines at the configured level, other libraries' from WARNING up."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from adapters.runtime.logs import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:], root.level = handlers, level


def emit_all(capsys: pytest.CaptureFixture[str]) -> str:
    logging.getLogger("apscheduler.executors.default").info("Running job tick (trigger: interval)")
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    logging.getLogger("adapters.runtime.server").info("listening on http://127.0.0.1:3000")
    return capsys.readouterr().err


def test_info_hides_third_party_info_lines_but_keeps_their_warnings(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO")
    err = emit_all(capsys)
    assert "Running job" not in err and "Context impl" not in err
    assert "was missed" in err and "listening on" in err


def test_debug_shows_everything(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("debug")
    err = emit_all(capsys)
    assert "Running job" in err and "Context impl" in err and "listening on" in err
