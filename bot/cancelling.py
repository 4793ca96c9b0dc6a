"""Telling a stop apart from a failure inside long-running loops."""

from __future__ import annotations

import asyncio


def being_cancelled() -> bool:
    """True while a cancel of the current task is pending.

    A loop that logs and carries on after ``except Exception`` must re-raise then: a database
    driver cancelled mid-statement can surface the stop as its own error (SQLAlchemy's
    ``MissingGreenlet`` when aiosqlite is cancelled while connecting), and swallowing it would
    keep the loop running after ``task.cancel()`` and hang whoever awaits the task.
    """
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
