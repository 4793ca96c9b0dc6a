"""The compare-and-set verdict shared by every lease and status update."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.engine import CursorResult, Result


def changed(result: Result[Any]) -> int:
    """Rows an UPDATE touched: whether the compare-and-set won."""
    return int(cast(CursorResult[Any], result).rowcount)
