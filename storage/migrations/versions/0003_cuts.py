"""multi-shot cuts: the cuts table, and each render's cut and shot number

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 04:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cuts",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("request_id", sa.String(length=40), sa.ForeignKey("requests.id"), nullable=False),
        sa.Column("brief_id", sa.String(length=40), sa.ForeignKey("briefs.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("render_id", sa.String(length=40), nullable=False),
        sa.Column("shots", sa.JSON(), nullable=False),
        sa.Column("draft", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("crossfade", sa.Float(), nullable=False, server_default="0"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("request_id", "version", name="uq_cuts_request_version"),
    )
    op.create_index("ix_cuts_request_id", "cuts", ["request_id"], unique=False)
    with op.batch_alter_table("renders") as batch:
        batch.add_column(sa.Column("cut_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("shot", sa.Integer(), nullable=True))
        batch.create_index("ix_renders_cut_id", ["cut_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("clipdesk migrations go forward only; restore a backup to go back")
