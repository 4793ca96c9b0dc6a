"""Wait for a condition in an async test without blocking the loop (fakes run on the same loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def wait_for(predicate: Callable[[], Awaitable[Any]], *, seconds: float = 60.0) -> Any:
    """Poll ``predicate`` until it returns something truthy; a generous limit, not a measurement."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")
