"""What the REST API and outgoing webhooks keep: tokens (hashed), idempotency keys, endpoints, deliveries.

Only this module reads and writes these tables (migration 0003 creates them).
A token's secret is never stored: only its SHA-256, which is what a bearer
token is looked up by. A webhook endpoint's ``whsec_`` secrets are stored as
they are (they sign every delivery), newest first; several during a rotation.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.tables import UTCDateTime

_meta = MetaData()

tokens_t = Table(
    "api_tokens",
    _meta,
    Column("id", String(40), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("platform", String(20), nullable=False),
    Column("workspace", String(64), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    Column("last_used_at", UTCDateTime()),
)
idempotency_t = Table(
    "api_idempotency",
    _meta,
    Column("token_id", String(40), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("request_id", String(40), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)
endpoints_t = Table(
    "webhook_endpoints",
    _meta,
    Column("id", String(40), primary_key=True),
    Column("platform", String(20), nullable=False),
    Column("workspace", String(64), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("secrets", JSON, nullable=False),
    Column("events", JSON, nullable=False),
    Column("source", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("failing_since", UTCDateTime()),
    Column("disabled_at", UTCDateTime()),
    Column("disabled_reason", String(500)),
    Column("deleted_at", UTCDateTime()),
)
deliveries_t = Table(
    "webhook_deliveries",
    _meta,
    Column("id", String(40), primary_key=True),
    Column("endpoint_id", String(40), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("event_kind", String(64), nullable=False),
    Column("request_id", String(40)),
    Column("attempt", Integer, nullable=False),
    Column("status_code", Integer),
    Column("ok", Boolean, nullable=False),
    Column("error", String(500)),
    Column("duration_ms", Float, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)


@dataclass(frozen=True)
class TokenRecord:
    id: str
    platform: str
    workspace: str
    actor_id: str
    name: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class EndpointRecord:
    id: str
    platform: str
    workspace: str
    url: str
    secrets: tuple[str, ...]
    events: frozenset[str]
    source: str
    created_at: datetime
    failing_since: datetime | None = None
    disabled_at: datetime | None = None
    disabled_reason: str | None = None

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None

    def wants(self, kind: str) -> bool:
        return not self.events or kind in self.events


@dataclass(frozen=True)
class DeliveryRecord:
    id: str
    endpoint_id: str
    message_id: str
    event_kind: str
    request_id: str | None
    attempt: int
    status_code: int | None
    ok: bool
    error: str | None
    duration_ms: float
    at: datetime


def _token(row: Any) -> TokenRecord:
    return TokenRecord(
        id=row["id"],
        platform=row["platform"],
        workspace=row["workspace"],
        actor_id=row["actor_id"],
        name=row["name"],
        scopes=frozenset(row["scopes"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )


def _endpoint(row: Any) -> EndpointRecord:
    return EndpointRecord(
        id=row["id"],
        platform=row["platform"],
        workspace=row["workspace"],
        url=row["url"],
        secrets=tuple(row["secrets"]),
        events=frozenset(row["events"]),
        source=row["source"],
        created_at=row["created_at"],
        failing_since=row["failing_since"],
        disabled_at=row["disabled_at"],
        disabled_reason=row["disabled_reason"],
    )


def _delivery(row: Any) -> DeliveryRecord:
    return DeliveryRecord(**{c.name: row[c.name] for c in deliveries_t.columns})


class SqlApiStore:
    """Tokens and idempotency keys of the REST API; endpoints and deliveries of outgoing webhooks."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ tokens

    async def add_token(self, token: TokenRecord, token_hash: str) -> None:
        values = {
            "id": token.id,
            "token_hash": token_hash,
            "platform": token.platform,
            "workspace": token.workspace,
            "actor_id": token.actor_id,
            "name": token.name,
            "scopes": sorted(token.scopes),
            "created_at": token.created_at,
        }
        async with self.engine.begin() as conn:
            await conn.execute(insert(tokens_t).values(values))

    async def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(tokens_t).where(tokens_t.c.token_hash == token_hash)))
                .mappings()
                .first()
            )
        return _token(row) if row else None

    async def tokens(self) -> list[TokenRecord]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(tokens_t).order_by(tokens_t.c.created_at))).mappings()
            return [_token(r) for r in rows]

    async def revoke_token(self, token_id: str, at: datetime) -> bool:
        """Revoke ``token_id``; ``False`` if there is no such active token."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(tokens_t)
                .where(tokens_t.c.id == token_id, tokens_t.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return bool(result.rowcount)

    async def touch_token(self, token_id: str, at: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(tokens_t).where(tokens_t.c.id == token_id).values(last_used_at=at))

    # ------------------------------------------------------------------ idempotency

    async def idempotent_request(self, token_id: str, key: str) -> tuple[str, str] | None:
        """``(fingerprint, request id)`` a token's earlier call with this key made, if any."""
        query = select(idempotency_t.c.fingerprint, idempotency_t.c.request_id).where(
            idempotency_t.c.token_id == token_id, idempotency_t.c.key == key
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return (row[0], row[1]) if row else None

    async def remember_idempotent(
        self, token_id: str, key: str, fingerprint: str, request_id: str, at: datetime
    ) -> bool:
        """Record the key; ``False`` when a concurrent call with the same key recorded it first."""
        values = {
            "token_id": token_id,
            "key": key,
            "fingerprint": fingerprint,
            "request_id": request_id,
            "created_at": at,
        }
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(idempotency_t).values(values))
        except IntegrityError:
            return False
        return True

    # ------------------------------------------------------------------ webhook endpoints

    async def add_endpoint(self, endpoint: EndpointRecord) -> None:
        values = {
            "id": endpoint.id,
            "platform": endpoint.platform,
            "workspace": endpoint.workspace,
            "url": endpoint.url,
            "secrets": list(endpoint.secrets),
            "events": sorted(endpoint.events),
            "source": endpoint.source,
            "created_at": endpoint.created_at,
        }
        async with self.engine.begin() as conn:
            await conn.execute(insert(endpoints_t).values(values))

    async def endpoints(self, platform: str, workspace: str) -> list[EndpointRecord]:
        """The workspace's endpoints that were not deleted (disabled ones too), oldest first."""
        query = (
            select(endpoints_t)
            .where(
                endpoints_t.c.platform == platform,
                endpoints_t.c.workspace == workspace,
                endpoints_t.c.deleted_at.is_(None),
            )
            .order_by(endpoints_t.c.created_at, endpoints_t.c.id)
        )
        async with self.engine.connect() as conn:
            return [_endpoint(r) for r in (await conn.execute(query)).mappings()]

    async def endpoints_of(
        self, workspaces: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], list[EndpointRecord]]:
        """:meth:`endpoints` of several ``(platform, workspace)`` pairs in one read (a burst of events)."""
        wanted = set(workspaces)
        found: dict[tuple[str, str], list[EndpointRecord]] = {key: [] for key in wanted}
        if not wanted:
            return found
        query = (
            select(endpoints_t)
            .where(
                endpoints_t.c.workspace.in_({workspace for _, workspace in wanted}),
                endpoints_t.c.deleted_at.is_(None),
            )
            .order_by(endpoints_t.c.created_at, endpoints_t.c.id)
        )
        async with self.engine.connect() as conn:
            for row in (await conn.execute(query)).mappings():
                # Filtered by workspace in SQL, by the pair here: same workspace ids on two platforms.
                key = (row["platform"], row["workspace"])
                if key in found:
                    found[key].append(_endpoint(row))
        return found

    async def get_endpoint(self, endpoint_id: str) -> EndpointRecord | None:
        query = select(endpoints_t).where(endpoints_t.c.id == endpoint_id, endpoints_t.c.deleted_at.is_(None))
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return _endpoint(row) if row else None

    async def policy_endpoint_ids(self) -> dict[tuple[str, str, str], str]:
        """The policy file's endpoints by (platform, workspace, url), so a restart does not repeat them."""
        query = select(endpoints_t).where(
            endpoints_t.c.source == "policy", endpoints_t.c.deleted_at.is_(None)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings()
            return {(r["platform"], r["workspace"], r["url"]): r["id"] for r in rows}

    async def set_endpoint_secrets(
        self, endpoint_id: str, secrets: Sequence[str], events: Sequence[str]
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(endpoints_t)
                .where(endpoints_t.c.id == endpoint_id)
                .values(secrets=list(secrets), events=sorted(events))
            )

    async def delete_endpoint(self, endpoint_id: str, platform: str, workspace: str, at: datetime) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(endpoints_t)
                .where(
                    endpoints_t.c.id == endpoint_id,
                    endpoints_t.c.platform == platform,
                    endpoints_t.c.workspace == workspace,
                    endpoints_t.c.deleted_at.is_(None),
                )
                .values(deleted_at=at)
            )
        return bool(result.rowcount)

    async def disable_endpoint(self, endpoint_id: str, reason: str, at: datetime) -> bool:
        """Disable an enabled endpoint; ``False`` if it already was (so the audit says it once)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(endpoints_t)
                .where(endpoints_t.c.id == endpoint_id, endpoints_t.c.disabled_at.is_(None))
                .values(disabled_at=at, disabled_reason=reason[:500])
            )
        return bool(result.rowcount)

    async def mark_failing(self, endpoint_id: str, since: datetime | None) -> None:
        """Start (or, with ``None``, end) the endpoint's run of failures."""
        query = update(endpoints_t).where(endpoints_t.c.id == endpoint_id)
        if since is not None:
            query = query.where(endpoints_t.c.failing_since.is_(None))
        async with self.engine.begin() as conn:
            await conn.execute(query.values(failing_since=since))

    # ------------------------------------------------------------------ deliveries

    async def add_delivery(self, delivery: DeliveryRecord) -> None:
        values = {c.name: getattr(delivery, c.name) for c in deliveries_t.columns}
        if values["error"]:
            values["error"] = values["error"][:500]
        async with self.engine.begin() as conn:
            await conn.execute(insert(deliveries_t).values(values))

    async def delivered(self, endpoint_id: str, message_id: str) -> bool:
        """Whether the endpoint already accepted this message (a retried outbox entry skips it)."""
        query = select(deliveries_t.c.id).where(
            and_(
                deliveries_t.c.endpoint_id == endpoint_id,
                deliveries_t.c.message_id == message_id,
                deliveries_t.c.ok.is_(True),
            )
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(query.limit(1))).first() is not None

    async def deliveries(self, endpoint_id: str, limit: int = 100) -> list[DeliveryRecord]:
        """The endpoint's newest deliveries first."""
        query = (
            select(deliveries_t)
            .where(deliveries_t.c.endpoint_id == endpoint_id)
            .order_by(deliveries_t.c.at.desc(), deliveries_t.c.id.desc())
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [_delivery(r) for r in (await conn.execute(query)).mappings()]
