"""Webhook endpoints an operator declares in the policy file (``[[webhooks]]`` in ``clipdesk.toml``).

```toml
[[webhooks]]
workspace = "slack:T0123"             # platform:workspace id
url = "https://hooks.example.com/clipdesk"
secret_env = "CLIPDESK_N8N_WEBHOOK_SECRET"   # or secret = "whsec_…" (kept out of the file is better)
events = ["render.ready", "request.approved"]  # optional: every event when left out
```

At start-up the file's endpoints are made (or their secrets and events updated),
and endpoints the file no longer lists are removed; those made through the API
are left alone.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.webhooks_out.events import EVENT_TYPES
from bot.domain import new_id
from storage.api_store import EndpointRecord, SqlApiStore


class WebhookPolicyError(ValueError):
    """A ``[[webhooks]]`` entry is wrong; the message names the entry and what to fix."""


@dataclass(frozen=True)
class DeclaredEndpoint:
    platform: str
    workspace: str
    url: str
    secret: str
    events: frozenset[str]


def _entry(number: int, raw: Any, source: str) -> DeclaredEndpoint:
    where = f"{source}: [[webhooks]] entry {number}"
    if not isinstance(raw, dict):
        raise WebhookPolicyError(f"{where} is not a table")
    unknown = set(raw) - {"workspace", "url", "secret", "secret_env", "events"}
    if unknown:
        raise WebhookPolicyError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    platform, sep, workspace = str(raw.get("workspace", "")).partition(":")
    if not sep or not platform or not workspace:
        raise WebhookPolicyError(f'{where}: workspace must read "platform:workspace id", e.g. "slack:T0123"')
    url = raw.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise WebhookPolicyError(f"{where}: url must be an http(s) URL")
    secret = raw.get("secret")
    if "secret_env" in raw:
        secret = os.environ.get(str(raw["secret_env"]))
        if not secret:
            raise WebhookPolicyError(f"{where}: the environment variable {raw['secret_env']} is not set")
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        raise WebhookPolicyError(f"{where}: the secret must be a whsec_… secret (secret or secret_env)")
    events = raw.get("events", [])
    if not isinstance(events, list) or any(e not in EVENT_TYPES for e in events):
        raise WebhookPolicyError(f"{where}: events must be a list of {', '.join(EVENT_TYPES)}")
    return DeclaredEndpoint(platform, workspace, url, secret, frozenset(events))


def declared_endpoints(path: Path | None) -> list[DeclaredEndpoint]:
    """The ``[[webhooks]]`` entries of the policy file (none without a file)."""
    if path is None or not path.exists():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = data.get("webhooks", [])
    if not isinstance(entries, list):
        raise WebhookPolicyError(f"{path}: webhooks must be written as [[webhooks]] tables")
    return [_entry(i, raw, str(path)) for i, raw in enumerate(entries, start=1)]


async def sync_declared(store: SqlApiStore, declared: list[DeclaredEndpoint], now: datetime) -> None:
    """Make the store's policy endpoints match the file."""
    existing = await store.policy_endpoint_ids()
    wanted: set[tuple[str, str, str]] = set()
    for d in declared:
        key = (d.platform, d.workspace, d.url)
        wanted.add(key)
        if key in existing:
            await store.set_endpoint_secrets(existing[key], (d.secret,), sorted(d.events))
            continue
        await store.add_endpoint(
            EndpointRecord(
                id=new_id("whe"),
                platform=d.platform,
                workspace=d.workspace,
                url=d.url,
                secrets=(d.secret,),
                events=d.events,
                source="policy",
                created_at=now,
            )
        )
    for key, endpoint_id in existing.items():
        if key not in wanted:
            await store.delete_endpoint(endpoint_id, key[0], key[1], now)
