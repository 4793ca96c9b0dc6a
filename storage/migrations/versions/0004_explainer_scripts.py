"""explainer scripts: a brief's narration script, key terms, learning goal and caption translation

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 04:00:00

One nullable JSON column: a brief that is not an explainer has none.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("briefs") as batch:
        batch.add_column(sa.Column("explainer", sa.JSON(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("clipdesk migrations go forward only; restore a backup to go back")
