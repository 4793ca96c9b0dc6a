"""API tokens: per workspace, with scopes and the actor id the audit records; only a hash is stored.

A token reads ``cdk_<random>``; clipdesk keeps its SHA-256 and shows the token
once, when it is made (``clipdesk tokens create``). Revoking is immediate: every
call looks the hash up.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from bot.domain import new_id
from storage.api_store import SqlApiStore, TokenRecord

PREFIX = "cdk_"


class Scope(StrEnum):
    REQUESTS_READ = "requests:read"
    REQUESTS_WRITE = "requests:write"
    REVIEWS_DECIDE = "reviews:decide"
    WEBHOOKS_MANAGE = "webhooks:manage"


ALL_SCOPES = frozenset(Scope)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scopes(names: Iterable[str]) -> frozenset[Scope]:
    """The scopes named; raises ``ValueError`` naming the first unknown one."""
    found: set[Scope] = set()
    for name in names:
        name = name.strip()
        if not name:
            continue
        try:
            found.add(Scope(name))
        except ValueError:
            known = ", ".join(sorted(ALL_SCOPES))
            raise ValueError(f"{name!r} is not a scope (known: {known})") from None
    return frozenset(found)


async def create_token(
    store: SqlApiStore,
    *,
    platform: str,
    workspace: str,
    actor_id: str,
    name: str,
    scopes: frozenset[Scope],
    now: datetime,
) -> tuple[str, TokenRecord]:
    """Make a token; return the secret (shown once) and what is stored about it."""
    secret = PREFIX + secrets.token_urlsafe(32)
    record = TokenRecord(
        id=new_id("tok"),
        platform=platform,
        workspace=workspace,
        actor_id=actor_id,
        name=name or actor_id,
        scopes=frozenset(str(s) for s in scopes),
        created_at=now,
    )
    await store.add_token(record, hash_token(secret))
    return secret, record
