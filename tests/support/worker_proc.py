"""A worker in its own process, for crash and multi-replica tests: ``python -m tests.support.worker_proc``.

It writes every render id it claims to ``--claims``, so a test can prove that
no render was claimed twice.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from adapters.runtime.container import build_app
from adapters.runtime.settings import Settings
from storage.media import LocalMediaStore
from tests.support.chat import FileChat
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider


async def main(args: argparse.Namespace) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    settings.data_dir = Path(args.data)
    settings.database_url = args.db
    settings.poll_start_seconds = 0.02
    settings.poll_cap_seconds = 0.1
    settings.lease_seconds = args.lease
    settings.worker_concurrency = args.concurrency
    settings.provider = "filejob"
    provider = FileJobProvider(Path(args.jobs), job_seconds=args.job_seconds)
    media = LocalMediaStore(settings.media_dir)
    chat_ports = [FileChat(Path(args.chat))] if args.chat else []
    app = await build_app(
        settings,
        chat_ports=chat_ports,
        providers={"filejob": provider},
        postprocessor=FilingPostProcessor(media),
        migrate=False,
        owner=args.owner,
    )
    # Line-buffered appends from several processes interleave whole lines, never halves.
    claims = open(args.claims, "a", buffering=1) if args.claims else None  # noqa: SIM115, ASYNC230
    original = app.store.claim_renders

    async def logged_claim(owner, now, lease_seconds, limit):  # type: ignore[no-untyped-def]
        renders = await original(owner, now, lease_seconds, limit)
        if claims is not None:
            for render in renders:
                claims.write(f"{render.id} {owner}\n")
        return renders

    app.store.claim_renders = logged_claim  # type: ignore[method-assign]
    idle = 0
    try:
        while True:
            got = await app.worker.claim_once()
            await app.deliverer.deliver_once()
            idle = idle + 1 if (got == 0 and app.worker.busy == 0) else 0
            if args.exit_when_idle and idle >= args.exit_when_idle:
                return
            await asyncio.sleep(0.02)
    finally:
        if claims is not None:
            claims.close()
        await app.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--jobs", required=True)
    parser.add_argument("--owner", required=True)
    parser.add_argument("--chat", default="")
    parser.add_argument("--claims", default="")
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--job-seconds", type=float, default=0.0)
    parser.add_argument("--exit-when-idle", type=int, default=0)
    asyncio.run(main(parser.parse_args()))
