"""Run every benchmark and print its figures: `python -m bench [name …]`."""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys

# Each module exposes `async def run() -> list[str]`. Optional ones are skipped if absent.
MODULES = [
    "queue",
    "procrastinate_ref",
    "animatic",
    "latency",
    "providers",
    "engines",
    "slack_ack",
    "discord_defer",
    "postprocess",
    "stitching",
    "cuts",
    "narration",
    "api",
]


async def main(names: list[str]) -> None:
    logging.basicConfig(level=logging.ERROR)
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                continue
            raise
        print(f"== {name}", flush=True)
        for line in await module.run():
            print(line, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:] or MODULES))
