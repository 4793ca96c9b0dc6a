"""A worker in its own process, for crash and multi-replica tests: ``python -m tests.support.worker_proc``.

It writes every render id it claims to ``--claims``, so a test can prove that
no render was claimed twice.

``--providers filejob`` (the default) renders on a :class:`FileJobProvider` in
``--jobs``. ``--providers settings`` builds the paid providers from the
environment exactly as production does (``adapters.providers.registry.paid_providers``),
so a test can point ``OPENAI_BASE_URL``, ``CLIPDESK_VEO_BASE_URL`` or
``RUNWAYML_BASE_URL`` at a fake and kill this process mid-render.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from pathlib import Path

from adapters.runtime.container import build_app
from adapters.runtime.settings import Settings
from bot.domain import Render
from bot.ports import VideoProvider
from storage.media import LocalMediaStore
from tests.support.chat import FileChat
from tests.support.post import FilingPostProcessor
from tests.support.providers import FileJobProvider


def _providers(args: argparse.Namespace, settings: Settings) -> dict[str, VideoProvider]:
    if args.providers == "settings":
        from adapters.providers.registry import paid_providers

        providers = paid_providers(settings)
        if not providers:
            raise SystemExit("--providers settings: no provider credentials in the environment")
        if settings.provider not in providers:
            settings.provider = next(iter(providers))
        return providers
    if not args.jobs:
        raise SystemExit("--providers filejob needs --jobs")
    settings.provider = "filejob"
    return {"filejob": FileJobProvider(Path(args.jobs), job_seconds=args.job_seconds)}


async def main(args: argparse.Namespace) -> None:
    # Settings() reads the environment (the provider keys and base URLs for --providers settings);
    # the queue knobs below are this test helper's, whatever the environment says.
    settings = Settings(_env_file=None)
    settings.data_dir = Path(args.data)
    settings.database_url = args.db
    settings.poll_start_seconds = 0.02
    settings.poll_cap_seconds = 0.1
    settings.lease_seconds = args.lease
    settings.worker_concurrency = args.concurrency
    providers = _providers(args, settings)
    media = LocalMediaStore(settings.media_dir)
    chat_ports = [FileChat(Path(args.chat))] if args.chat else []
    app = await build_app(
        settings,
        chat_ports=chat_ports,
        providers=providers,
        postprocessor=FilingPostProcessor(media),
        migrate=False,
        owner=args.owner,
    )
    # Line-buffered appends from several processes interleave whole lines, never halves.
    claims = open(args.claims, "a", buffering=1) if args.claims else None  # noqa: SIM115
    original = app.store.renders.claimed

    def logged_claim(renders: list[Render], now: datetime) -> None:
        # Told once a claim's transaction committed (a claim rolled back leased nothing).
        original(renders, now)
        if claims is not None:
            for render in renders:
                claims.write(f"{render.id} {render.lease_owner}\n")

    app.store.renders.claimed = logged_claim  # type: ignore[method-assign]
    loop = asyncio.get_running_loop()
    idle_since = loop.time()
    try:
        while True:
            got = await app.worker.claim_once()
            sent = await app.deliverer.deliver_once()
            if got or sent or app.worker.busy:
                idle_since = loop.time()
            elif args.exit_when_idle and loop.time() - idle_since >= args.exit_when_idle:
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
    parser.add_argument("--providers", choices=("filejob", "settings"), default="filejob")
    parser.add_argument("--jobs", default="", help="the FileJobProvider's folder (--providers filejob)")
    parser.add_argument("--owner", required=True)
    parser.add_argument("--chat", default="")
    parser.add_argument("--claims", default="")
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--job-seconds", type=float, default=0.0)
    parser.add_argument("--exit-when-idle", type=float, default=0.0, help="seconds with nothing to do")
    asyncio.run(main(parser.parse_args()))
