"""domain events, one outbox for every sink, stored plans, intake leases, submit intents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 09:00:00

The old outbox held only chat posts ("clip"/"failed"); entries still waiting in it are
re-created as render.ready / request.failed events for the thread presenter, so an upgrade
with undelivered clips still posts them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("status_message")
        batch.drop_column("brief_message")
        batch.add_column(sa.Column("lease_owner", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("briefs") as batch:
        batch.add_column(sa.Column("plan", sa.JSON(), nullable=True))
    with op.batch_alter_table("renders") as batch:
        batch.add_column(sa.Column("price_per_second", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("quality", sa.String(length=16), nullable=False, server_default="standard")
        )
        batch.add_column(sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("submit_intent_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("submit_key", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("submitted_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("uncertain", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("from_status", sa.String(length=32), nullable=False, server_default=""))
        batch.add_column(sa.Column("to_status", sa.String(length=32), nullable=False, server_default=""))

    waiting = _undelivered_chat_posts()
    op.drop_table("outbox")
    outbox = op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(length=40), nullable=False, unique=True),
        sa.Column("key", sa.String(length=200), nullable=False, unique=True),
        sa.Column("sink", sa.String(length=32), nullable=False),
        sa.Column("route", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_outbox_due", "outbox", ["delivered_at", "abandoned", "sink", "route"])
    op.create_index("ix_outbox_request_order", "outbox", ["request_id", "sink", "seq"])
    if waiting:
        op.bulk_insert(outbox, waiting)

    op.create_table(
        "thread_messages",
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=80), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "role"),
    )


def _undelivered_chat_posts() -> list[dict[str, Any]]:
    """Old outbox entries not yet posted, as events the thread presenter shows the same way."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT o.kind, o.request_id, o.payload, o.created_at, r.platform, r.workspace, r.channel "
            "FROM outbox o JOIN requests r ON r.id = o.request_id "
            "WHERE o.delivered_at IS NULL AND NOT o.abandoned"
        )
    ).fetchall()
    entries: list[dict[str, Any]] = []
    for kind, request_id, payload, created_at, platform, workspace, channel in rows:
        data = payload if isinstance(payload, dict) else json.loads(payload or "{}")
        event_id = f"evt_{uuid.uuid4().hex[:20]}"
        at = UTCDateTime().process_result_value(created_at, bind.dialect) if created_at else None
        when = at.isoformat() if at else ""
        if kind == "clip":
            event_kind, render_id = "render.ready", data.get("render_id")
            body: dict[str, Any] = {"provider": "", "model": "", "attempt": 0, "cost_actual": None}
        else:
            event_kind, render_id = "request.failed", None
            body = {"reason": str(data.get("reason", ""))}
        entries.append(
            {
                "id": f"obx_{uuid.uuid4().hex[:20]}",
                "key": f"thread:{event_id}",
                "sink": "thread",
                "route": platform,
                "request_id": request_id,
                "kind": event_kind,
                "event": {
                    "id": event_id,
                    "kind": event_kind,
                    "actor": "clipdesk",
                    "at": when,
                    "request_id": request_id,
                    "render_id": render_id,
                    "platform": platform,
                    "workspace": workspace,
                    "channel": channel,
                    "from_status": "",
                    "to_status": "",
                    "data": body,
                },
                "attempts": 0,
                "abandoned": False,
                "created_at": at,
            }
        )
    return entries


def downgrade() -> None:
    raise NotImplementedError("clipdesk migrations go forward only; restore a backup to go back")
