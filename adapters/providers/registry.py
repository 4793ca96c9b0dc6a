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

        # No SDK retries: a retried POST /videos has no idempotency key and could start a second paid job.
        client = AsyncOpenAI(api_key=settings.video_api_key, base_url=settings.video_base_url, max_retries=0)
        providers["openai"] = OpenAIVideosProvider(
            client, default_model=settings.openai_video_model, prices=prices.get("openai")
        )
    if is_configured("veo", settings):
        from adapters.providers import veo

        providers["veo"] = veo.VeoProvider(
            veo.make_client(
                api_key=settings.gemini_api_key,
                project=settings.veo_vertex_project,
                location=settings.veo_vertex_location,
                base_url=settings.veo_base_url,
            ),
            model=settings.veo_model,
            prices=prices.get("veo"),
            output_gcs_uri=settings.veo_output_gcs_uri,
        )
    if is_configured("runway", settings) and settings.runwayml_api_secret:
        from adapters.providers import runway

        providers["runway"] = runway.RunwayProvider(
            runway.make_client(api_key=settings.runwayml_api_secret, base_url=settings.runwayml_base_url),
            model=settings.runway_model,
            prices=prices.get("runway"),
        )
    return providers
