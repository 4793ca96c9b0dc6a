"""Build the paid video providers whose keys are set."""

from __future__ import annotations

from adapters.runtime.settings import Settings
from bot.ports import VideoProvider


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
    if settings.video_api_key and settings.video_base_url:
        # OpenAI's own /v1/videos is retired: this needs an Azure or gateway base URL.
        from openai import AsyncOpenAI

        from adapters.providers.openai_videos import OpenAIVideosProvider

        # No SDK retries: a retried POST /videos has no idempotency key and could start a second paid job.
        client = AsyncOpenAI(
            api_key=settings.video_api_key, base_url=settings.video_base_url, max_retries=0
        )
        providers["openai"] = OpenAIVideosProvider(
            client, default_model=settings.openai_video_model, prices=prices.get("openai")
        )
    if settings.veo_vertex_project or settings.gemini_api_key:
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
    if settings.runwayml_api_secret:
        from adapters.providers import runway

        providers["runway"] = runway.RunwayProvider(
            runway.make_client(api_key=settings.runwayml_api_secret, base_url=settings.runwayml_base_url),
            model=settings.runway_model,
            prices=prices.get("runway"),
        )
    return providers
