"""Build the paid video providers whose keys are set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adapters.runtime.settings import Settings
from bot.ports import VideoProvider


@dataclass(frozen=True)
class ProviderSetup:
    """When a provider is switched on, and what an operator sets to switch it on."""

    configured: Callable[[Settings], bool]
    how: str


PROVIDERS: dict[str, ProviderSetup] = {
    "animatic": ProviderSetup(lambda s: True, "nothing: the local storyboard renderer is always there"),
    "openai": ProviderSetup(
        lambda s: bool(s.video_api_key and s.video_base_url),
        "set CLIPDESK_OPENAI_VIDEO_BASE_URL and CLIPDESK_OPENAI_VIDEO_API_KEY "
        "(or OPENAI_BASE_URL and OPENAI_API_KEY)",
    ),
    "veo": ProviderSetup(
        lambda s: bool(s.veo_vertex_project or s.gemini_api_key),
        "set GEMINI_API_KEY (an Agent Platform express key) or CLIPDESK_VEO_VERTEX_PROJECT",
    ),
    "runway": ProviderSetup(lambda s: bool(s.runwayml_api_secret), "set RUNWAYML_API_SECRET"),
    "fal": ProviderSetup(lambda s: bool(s.fal_key), "set FAL_KEY"),
    "replicate": ProviderSetup(lambda s: bool(s.replicate_api_token), "set REPLICATE_API_TOKEN"),
    "luma": ProviderSetup(lambda s: bool(s.lumaai_api_key), "set LUMAAI_API_KEY"),
    "comfyui": ProviderSetup(
        lambda s: bool(s.comfyui_url), "set CLIPDESK_COMFYUI_URL and CLIPDESK_COMFYUI_WORKFLOW"
    ),
}


def is_configured(name: str, settings: Settings) -> bool:
    """Whether ``name`` is a provider clipdesk knows and its credentials are set."""
    setup = PROVIDERS.get(name)
    return setup is not None and setup.configured(settings)


def parse_prices(raw: str) -> dict[str, dict[str, float]]:
    """``"openai:sora-2=0.1,veo:veo-3.1-generate-preview=0.4"`` → ``{"openai": {"sora-2": 0.1}, …}``."""
    table: dict[str, dict[str, float]] = {}
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, price = item.partition("=")
        provider, _, model = name.partition(":")
        if not provider or not model or not price:
            raise ValueError(f"CLIPDESK_PRICES entry {item!r} is not provider:model=usd_per_second")
        table.setdefault(provider.strip(), {})[model.strip()] = float(price)
    return table


def paid_providers(settings: Settings) -> dict[str, VideoProvider]:
    """Each provider whose credentials are set; imports stay lazy so unused SDKs cost nothing."""
    prices = parse_prices(settings.prices)
    providers: dict[str, VideoProvider] = {}
    if is_configured("openai", settings):
        # OpenAI's own /v1/videos is retired: this needs an Azure or gateway base URL.
        from openai import AsyncOpenAI

        from adapters.providers.openai_videos import OpenAIVideosProvider

        # No SDK retries: a retried POST /videos could start a second paid job.
        client = AsyncOpenAI(
            api_key=settings.video_api_key,
            base_url=settings.video_base_url,
            max_retries=0,
            timeout=settings.provider_timeout_seconds,
        )
        providers["openai"] = OpenAIVideosProvider(
            client,
            default_model=settings.openai_video_model,
            prices=prices.get("openai"),
            idempotent_gateway=settings.openai_idempotent_gateway,
        )
    if is_configured("veo", settings):
        from adapters.providers import veo

        providers["veo"] = veo.VeoProvider(
            veo.make_client(
                api_key=settings.gemini_api_key,
                project=settings.veo_vertex_project,
                location=settings.veo_vertex_location,
                base_url=settings.veo_base_url,
                timeout_ms=int(settings.provider_timeout_seconds * 1000),
            ),
            model=settings.veo_model,
            prices=prices.get("veo"),
            output_gcs_uri=settings.veo_output_gcs_uri,
        )
    if is_configured("runway", settings) and settings.runwayml_api_secret:
        from adapters.providers import runway

        providers["runway"] = runway.RunwayProvider(
            runway.make_client(
                api_key=settings.runwayml_api_secret,
                base_url=settings.runwayml_base_url,
                timeout=settings.provider_timeout_seconds,
            ),
            model=settings.runway_model,
            prices=prices.get("runway"),
        )
    providers.update(_engines(settings, prices))
    return providers


def webhook_url(settings: Settings, path: str) -> str | None:
    """Where a provider should call back, when clipdesk has a public base URL for webhooks."""
    return settings.webhook_base_url.rstrip("/") + path if settings.webhook_base_url else None


def _engines(settings: Settings, prices: dict[str, dict[str, float]]) -> dict[str, VideoProvider]:
    """fal, Replicate, Luma and ComfyUI, each when its key (or server) is configured."""
    providers: dict[str, VideoProvider] = {}
    timeout = settings.provider_timeout_seconds
    if settings.fal_key:
        from adapters.providers import fal

        providers["fal"] = fal.FalProvider(
            fal.make_client(key=settings.fal_key, base_url=settings.fal_base_url, timeout=timeout),
            model=settings.fal_model,
            prices=prices.get("fal"),
            webhook_url=webhook_url(settings, "/webhooks/fal"),
        )
    if settings.replicate_api_token:
        import httpx
        from replicate.client import Client

        from adapters.providers.replicate_provider import ReplicateProvider

        client = Client(
            api_token=settings.replicate_api_token,
            base_url=settings.replicate_base_url,
            timeout=httpx.Timeout(timeout),
        )
        hook = webhook_url(settings, "/webhooks/replicate") if settings.replicate_webhook_secret else None
        providers["replicate"] = ReplicateProvider(
            client, model=settings.replicate_model, prices=prices.get("replicate"), webhook_url=hook
        )
    if settings.lumaai_api_key:
        from adapters.providers import luma

        providers["luma"] = luma.LumaProvider(
            luma.make_client(
                api_key=settings.lumaai_api_key, base_url=settings.luma_base_url, timeout=timeout
            ),
            model=settings.luma_model,
            prices=prices.get("luma"),
            webhook_url=webhook_url(settings, "/webhooks/luma"),
            webhook_secret=settings.luma_webhook_secret,
        )
    if settings.comfyui_url:
        from adapters.providers.comfyui import ComfyUIProvider
        from adapters.providers.comfyui_workflow import WorkflowError, load_workflow

        if settings.comfyui_workflow is None:
            raise WorkflowError("CLIPDESK_COMFYUI_URL is set but CLIPDESK_COMFYUI_WORKFLOW names no file")
        providers["comfyui"] = ComfyUIProvider(
            settings.comfyui_url,
            load_workflow(settings.comfyui_workflow),
            price_per_second=settings.comfyui_price_per_second,
            max_queue=settings.comfyui_max_queue,
            timeout=timeout,
        )
    return providers


def push_providers(settings: Settings) -> frozenset[str]:
    """The providers that push completion (webhook or websocket), so the worker polls them only as a net."""
    pushed = {"openai"} if settings.openai_webhook_secret else set()
    if settings.webhook_base_url:
        signed = {
            "fal": bool(settings.fal_key),
            "replicate": bool(settings.replicate_api_token and settings.replicate_webhook_secret),
            "luma": bool(settings.lumaai_api_key and settings.luma_webhook_secret),
        }
        pushed |= {name for name, on in signed.items() if on}
    return frozenset(pushed | ({"comfyui"} if settings.comfyui_url else set()))
