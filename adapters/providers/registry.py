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
    providers: dict[str, VideoProvider] = {}
    return providers
