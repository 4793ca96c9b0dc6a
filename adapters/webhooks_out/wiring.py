"""Build the webhook sink from the settings and bring the policy file's endpoints into the store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.runtime.settings import Settings
from adapters.webhooks_out.policy import declared_endpoints, sync_declared
from adapters.webhooks_out.sink import WebhookConfig, WebhookSink, parse_schedule
from bot.ports.media import Clock
from storage.api_store import SqlApiStore
from storage.media import LocalMediaStore
from storage.repository import SqlStore


def policy_path(settings: Settings) -> Path | None:
    """The same file the policy is read from (``CLIPDESK_POLICY_FILE`` or ``./clipdesk.toml``)."""
    if settings.policy_file:
        return settings.policy_file
    default = Path("clipdesk.toml")
    return default if default.exists() else None


def webhook_config(settings: Settings) -> WebhookConfig:
    return WebhookConfig(
        timeout_seconds=settings.webhook_timeout_seconds,
        schedule=parse_schedule(settings.webhook_retry_schedule),
        allow_private=settings.webhook_allow_private,
        disable_after=timedelta(hours=settings.webhook_disable_after_hours),
        public_url=settings.public_url,
    )


async def webhook_sink(
    settings: Settings, store: SqlStore, media: LocalMediaStore, clock: Clock
) -> WebhookSink:
    """The sink, after the policy file's ``[[webhooks]]`` are in the store."""
    api_store = SqlApiStore(store.engine)
    await sync_declared(api_store, declared_endpoints(policy_path(settings)), clock.now())
    return WebhookSink(
        store=api_store,
        requests=store.requests,
        renders=store.renders,
        media=media,
        uow=store,
        clock=clock,
        config=webhook_config(settings),
    )
