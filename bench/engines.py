"""fal, Replicate, Luma and ComfyUI: API calls per completed render, polling only and with the push.

Same method as ``bench/providers.py``: one render through the real worker against the
engine's fake, time scaled 1:``SCALE`` (a job of ``JOB_SECONDS`` provider time is held
``JOB_SECONDS / SCALE`` s, and the worker's polling settings and the adapters' hints
are scaled alike), counting every API request the fake recorded (create, status,
result; ComfyUI's queue checks and ``/view`` download too). CDN downloads of hosted
clips are not API calls and are not counted.

"With push": the engine's webhook (fal, Replicate, Luma) or ComfyUI's websocket tells
clipdesk the job finished, and the worker treats the engine as pushed
(``registry.push_providers``: polled only as a safety net, from the poll cap).
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import replace
from pathlib import Path

from adapters.providers.registry import push_providers
from adapters.web.app import create_web_app
from adapters.web.server import WebServer
from bot.domain import RequestStatus
from storage.database import upgrade
from tests.e2e.engine_fakes import ENGINES, EngineFake, engine_settings, running_engine
from tests.e2e.paid_fakes import providers_for
from tests.fakes.loopback import unused_port
from tests.support.harness import make_harness, test_settings

SCALE = 30
JOB_SECONDS = 120.0
POLL_START, POLL_CAP = 2.0, 20.0


async def _calls(name: str, *, push: bool) -> int:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        url = f"sqlite:///{tmp / 'bench.db'}"
        upgrade(url)
        async with running_engine(name, tmp) as fake:
            fake.hold()
            port = unused_port()
            overrides = {
                **engine_settings(fake),
                "poll_start_seconds": POLL_START / SCALE,
                "poll_cap_seconds": POLL_CAP / SCALE,
                "render_timeout_seconds": 3600.0 / SCALE,
                **(fake.webhook_settings(f"http://127.0.0.1:{port}") if push else {}),
            }
            providers = providers_for(tmp, url, overrides)
            for provider in providers.values():  # scale the adapters' polling hints with the clock
                provider._poll_seconds /= SCALE  # type: ignore[attr-defined]
            h = await make_harness(tmp, url, providers=providers, **overrides)
            pushed = push_providers(test_settings(tmp, url, **overrides)) if push else frozenset()
            h.app.worker.config = replace(h.app.worker.config, push_providers=pushed)
            server = WebServer(create_web_app(h.app), "127.0.0.1", port)
            await server.start()
            try:
                provider_side = asyncio.create_task(_finish_later(fake, push))
                request = await h.ask(fake.ask())
                if request is None:
                    raise RuntimeError(f"{name}: the ask was not accepted: {h.chat.texts()}")
                await h.run_until(request.id, [RequestStatus.IN_REVIEW, RequestStatus.FAILED])
                await provider_side
                [render] = await h.app.store.renders.renders_for(request.id)
                if render.status.value != "ready":
                    raise RuntimeError(f"{name}: render failed: {render.failure_reason}")
                return fake.api_calls()
            finally:
                await server.stop()
                await h.close()


async def _finish_later(fake: EngineFake, push: bool) -> None:
    while not fake.jobs():
        await asyncio.sleep(0.002)
    await asyncio.sleep(JOB_SECONDS / SCALE)
    if push:
        status = await fake.push(fake.jobs()[0])
        if status != 200:
            raise RuntimeError(f"clipdesk answered {status} to the push")
    else:
        fake.release()


async def run() -> list[str]:
    lines = [
        f"new engines, API calls per completed render ({JOB_SECONDS:.0f} s of provider time, "
        f"scaled 1:{SCALE}; "
        f"polling {POLL_START:g}-{POLL_CAP:g} s, adapters' hints as floors; with push: polled from "
        f"{POLL_CAP:g} s as a safety net)"
    ]
    for name in ENGINES:
        polling = await _calls(name, push=False)
        pushed = await _calls(name, push=True)
        how = "websocket" if name == "comfyui" else "webhook"
        lines.append(f"    {name:<10} polling only {polling:>3} calls    with its {how} {pushed:>3} calls")
    return lines
