"""Every video provider adapter next to its fake, behind one interface, for the contract suite.

Each :class:`Engine` starts a provider's fake, builds the adapter the way
production does (``paid_providers(Settings)``: only keys and base URLs differ),
and gives the fake's switches one name each. A switch the service has no
equivalent of (ComfyUI has no rate limit, the animatic no network) is ``None``,
and the contract test that needs it is skipped for that provider with the reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.providers.animatic import AnimaticProvider
from adapters.providers.registry import paid_providers
from bot.ports import RenderSpec, VideoProvider
from tests.fakes.comfyui import FakeComfyUI
from tests.fakes.fal import FakeFal
from tests.fakes.faults import CreateFaults
from tests.fakes.luma import FakeLuma
from tests.fakes.openai import FakeOpenAI
from tests.fakes.replicate import FakeReplicate
from tests.fakes.runway import FakeRunway
from tests.fakes.veo import FakeVeo
from tests.support.harness import test_settings
from tests.support.specs import bottle_spec

ROOT = Path(__file__).resolve().parents[2]
COMFYUI_WORKFLOW = ROOT / "deploy" / "comfyui" / "wan22-ti2v-5b.json"
ENGINES = ("animatic", "openai", "veo", "runway", "fal", "replicate", "luma", "comfyui")
TIMEOUT = 1.5  # the per-call bound the contract's providers get, so a hung call ends fast

_NO_KEYS: dict[str, object] = {
    "openai_api_key": None,
    "gemini_api_key": None,
    "veo_vertex_project": None,
    "runwayml_api_secret": None,
    "fal_key": None,
    "replicate_api_token": None,
    "lumaai_api_key": None,
    "comfyui_url": None,
}

Switch = Callable[[], None] | None


@dataclass
class Engine:
    """One provider and its fake, with the fake's switches under common names."""

    name: str
    provider: VideoProvider
    spec: RenderSpec
    created: Callable[[], int]
    faults: CreateFaults | None = None
    status_route: str = "status"
    retry_after: float | None = None
    rate_limit: Switch = None
    refuse: Switch = None
    go_down: Switch = None
    cancelled: Callable[[], list[str]] | None = None  # None: the API has no cancel
    unreachable: Callable[[], VideoProvider] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _build(name: str, tmp: Path, **settings: Any) -> Any:
    overrides = {**_NO_KEYS, "provider_timeout_seconds": TIMEOUT, **settings}
    return paid_providers(test_settings(tmp, "sqlite://", **overrides))[name]


def _spec(model: str, seconds: int, size: str = "1280x720") -> RenderSpec:
    spec = bottle_spec(model=model, seconds=seconds, size=size, seed=1234, render_id="rnd_contract")
    return spec.__class__(**{**spec.__dict__, "idempotency_key": "rnd_contract:1"})


@contextlib.asynccontextmanager
async def engine(name: str, tmp: Path) -> AsyncIterator[Engine]:
    """Start ``name``'s fake and its adapter; close the adapter's SDK client afterwards."""
    async with _engine(name, tmp) as running:
        try:
            yield running
        finally:
            close = getattr(running.provider, "aclose", None)
            if close is not None and name != "comfyui":
                await close()


@contextlib.asynccontextmanager
async def _engine(name: str, tmp: Path) -> AsyncIterator[Engine]:
    from tests.fakes.loopback import unused_port

    dead = f"http://127.0.0.1:{unused_port()}"
    if name == "animatic":
        provider = AnimaticProvider(tmp / "animatic", fps=8)
        try:
            yield Engine(
                name, provider, _spec("animatic-v1", 4), lambda: len(list((tmp / "animatic").glob("anim_*")))
            )
        finally:
            provider.close()
    elif name == "openai":
        async with FakeOpenAI(tmp / "openai", steps=1, poll_after_ms=0) as fake:
            settings: dict[str, Any] = {"openai_api_key": "sk-test", "openai_base_url": fake.base_url}
            yield Engine(
                name,
                _build(name, tmp, **settings),
                _spec("sora-2", 4),
                lambda: len(fake.videos),
                faults=fake.faults,
                status_route="videos.retrieve",
                retry_after=2.0,
                rate_limit=lambda: fake.rate_limit(1, retry_after=2, route="videos.create"),
                refuse=fake.refuse_create,
                go_down=lambda: setattr(fake, "down", True),
                unreachable=lambda: _build(name, tmp, openai_api_key="sk", openai_base_url=dead + "/v1"),
                extra={"fake": fake},
            )
    elif name == "veo":
        async with FakeVeo(polls_until_done=1, clip_seconds=None, retry_after=7.0) as veo:
            yield Engine(
                name,
                _build(name, tmp, gemini_api_key=veo.api_key, veo_base_url=veo.base_url),
                _spec("veo-3.1-generate-001", 4),
                lambda: len(veo.operations),
                faults=veo.faults,
                retry_after=7.0,
                rate_limit=lambda: setattr(veo, "rate_limit", 1),
                refuse=lambda: setattr(veo, "refuse_prompt", True),
                go_down=lambda: setattr(veo, "down", True),
                unreachable=lambda: _build(name, tmp, gemini_api_key="k", veo_base_url=dead),
                extra={"fake": veo},
            )
    elif name == "runway":
        async with FakeRunway(script=(("RUNNING", 0.5), ("SUCCEEDED", 1.0)), clip_seconds=None) as runway:
            settings = {"runwayml_api_secret": runway.api_key, "runwayml_base_url": runway.base_url}
            yield Engine(
                name,
                _build(name, tmp, **settings),
                _spec("gen4.5", 5),
                lambda: len(runway.tasks),
                faults=runway.faults,
                retry_after=3.0,
                rate_limit=lambda: setattr(runway, "rate_limit", 1),
                refuse=lambda: setattr(runway, "refuse_prompt", True),
                go_down=lambda: setattr(runway, "down", True),
                cancelled=lambda: runway.cancelled,
                unreachable=lambda: _build(name, tmp, runwayml_api_secret="k", runwayml_base_url=dead),
                extra={"fake": runway},
            )
    elif name == "fal":
        async with FakeFal(steps=1) as fal:
            yield Engine(
                name,
                _build(name, tmp, fal_key=fal.key, fal_base_url=fal.base_url),
                _spec("kling-2.1-standard", 5),
                lambda: len(fal.requests),
                faults=fal.faults,
                retry_after=2.0,
                rate_limit=lambda: setattr(fal, "rate_limit", 1),
                refuse=lambda: setattr(fal, "refuse_prompt", True),
                go_down=lambda: setattr(fal, "down", True),
                cancelled=lambda: [r.id for r in fal.requests.values() if r.cancelled],
                unreachable=lambda: _build(name, tmp, fal_key="k", fal_base_url=dead),
                extra={"fake": fal},
            )
    elif name == "replicate":
        async with FakeReplicate(steps=1) as rep:
            yield Engine(
                name,
                _build(name, tmp, replicate_api_token=rep.token, replicate_base_url=rep.base_url),
                _spec("minimax/hailuo-02", 6, "1366x768"),
                lambda: len(rep.predictions),
                faults=rep.faults,
                retry_after=2.0,
                rate_limit=lambda: setattr(rep, "rate_limit", 1),
                refuse=lambda: setattr(rep, "refuse_prompt", True),
                go_down=lambda: setattr(rep, "down", True),
                cancelled=lambda: rep.cancelled,
                unreachable=lambda: _build(name, tmp, replicate_api_token="r8", replicate_base_url=dead),
                extra={"fake": rep},
            )
    elif name == "luma":
        async with FakeLuma(steps=1) as luma:
            yield Engine(
                name,
                _build(name, tmp, lumaai_api_key=luma.api_key, luma_base_url=luma.base_url),
                _spec("ray-2", 5),
                lambda: len(luma.generations),
                faults=luma.faults,
                retry_after=2.0,
                rate_limit=lambda: setattr(luma, "rate_limit", 1),
                refuse=lambda: setattr(luma, "refuse_prompt", True),
                go_down=lambda: setattr(luma, "down", True),
                cancelled=lambda: luma.deleted,
                unreachable=lambda: _build(name, tmp, lumaai_api_key="k", luma_base_url=dead),
                extra={"fake": luma},
            )
    elif name == "comfyui":
        async with FakeComfyUI() as comfy:
            settings = {"comfyui_url": comfy.base_url, "comfyui_workflow": COMFYUI_WORKFLOW}
            provider = _build(name, tmp, **settings)
            try:
                yield Engine(
                    name,
                    provider,
                    _spec("wan-2.2-5b", 2, "1280x704"),
                    lambda: len(comfy.prompts),
                    faults=comfy.faults,
                    go_down=lambda: setattr(comfy, "busy", 10),  # a full queue: no GPU free
                    cancelled=lambda: comfy.interrupted,
                    unreachable=lambda: _build(name, tmp, **{**settings, "comfyui_url": dead}),
                    extra={"fake": comfy},
                )
            finally:
                await provider.aclose()
    else:
        raise ValueError(f"no engine {name!r}")
