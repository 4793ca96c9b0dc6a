"""Shared fixtures: databases (SQLite and a real PostgreSQL), stores and a wired clipdesk."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.database import make_engine, upgrade
from storage.repository import SqlStore

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = os.environ.get("CLIPDESK_TEST_POSTGRES_URL", DEFAULT_PG)
REQUIRE_PG = os.environ.get("CLIPDESK_REQUIRE_POSTGRES") == "1"
TABLES = (
    "seen_events, audit_events, outbox, reviews, renders, briefs, requests, "
    "api_tokens, api_idempotency, webhook_endpoints, webhook_deliveries"
)

_pg_state: dict[str, str | None] = {"url": None, "error": None}


def _postgres_admin_url() -> str:
    return make_url(PG_URL).render_as_string(hide_password=False)


def _create_test_database() -> str:
    """A fresh database for this test session, migrated to head."""
    admin = create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"clipdesk_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def _drop_test_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_CREDENTIALS = (
    "OPENAI_",
    "GEMINI_",
    "GOOGLE_",
    "RUNWAYML_",
    "SLACK_",
    "DISCORD_",
    "FAL_",
    "REPLICATE_",
    "LUMAAI_",
)
_KEEP = {"CLIPDESK_TEST_POSTGRES_URL", "CLIPDESK_REQUIRE_POSTGRES"}


def pytest_configure(config: pytest.Config) -> None:
    # A developer's own keys or settings must never reach a real service or change what a test sees.
    for name in list(os.environ):
        if name.startswith(_CREDENTIALS) or (name.startswith("CLIPDESK_") and name not in _KEEP):
            del os.environ[name]
    try:
        _pg_state["url"] = _create_test_database()
    except Exception as exc:  # no server here: loud notice, or a hard failure under CI
        _pg_state["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if REQUIRE_PG:
            raise pytest.UsageError(
                f"CLIPDESK_REQUIRE_POSTGRES=1 but PostgreSQL at {PG_URL} is unreachable: {_pg_state['error']}"
            ) from exc


def pytest_unconfigure(config: pytest.Config) -> None:
    if _pg_state["url"]:
        _drop_test_database(_pg_state["url"])


def pytest_report_header(config: pytest.Config) -> list[str]:
    if _pg_state["url"]:
        return [f"clipdesk: PostgreSQL tests run against {make_url(_pg_state['url']).render_as_string()}"]
    return [
        "!" * 78,
        f"clipdesk: POSTGRESQL UNREACHABLE at {PG_URL}: {_pg_state['error']}",
        "clipdesk: every PostgreSQL test is SKIPPED. Start PostgreSQL or set CLIPDESK_TEST_POSTGRES_URL.",
        "!" * 78,
    ]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _pg_state["url"]:
        terminalreporter.write_line(
            f"WARNING: PostgreSQL tests were skipped: {PG_URL} unreachable ({_pg_state['error']})",
            red=True,
            bold=True,
        )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The session's PostgreSQL database, emptied before each test."""
    url = _pg_state["url"]
    if not url:
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} CASCADE"))
    engine.dispose()
    yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'clipdesk.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SqlStore]:
    s = SqlStore(make_engine(db_url))
    yield s
    await s.close()
