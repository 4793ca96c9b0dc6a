"""`bot/` imports nothing from adapters, storage or any outside-world SDK."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "bot"
FORBIDDEN = {
    "adapters",
    "storage",
    "slack_bolt",
    "slack_sdk",
    "discord",
    "openai",
    "google",
    "runwayml",
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "psycopg",
    "aiosqlite",
    "sqlite3",
    "aiohttp",
    "httpx",
    "httpx2",
    "requests",
    "av",
    "PIL",
    "c2pa",
    "apscheduler",
    "typer",
    "rich",
    "pydantic",
    "pydantic_settings",
    "numpy",
}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_modules_import_only_the_standard_library_and_the_core() -> None:
    offenders = {}
    for path in sorted(CORE.rglob("*.py")):
        bad = {
            root
            for root in imported_roots(path)
            if root in FORBIDDEN
            or (root not in sys.stdlib_module_names and root != "bot" and root != "__future__")
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_the_check_would_catch_an_sdk_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("import slack_bolt\nfrom sqlalchemy import select\nfrom bot import views\n")
    assert imported_roots(sneaky) & FORBIDDEN == {"slack_bolt", "sqlalchemy"}
