"""PostgreSQL announces queued work itself: NOTIFY from triggers on renders and outbox

Every transaction that queued a render or wrote an outbox entry used to send its
own ``SELECT pg_notify(…)``: one more round trip on four of a render's five
transactions. Triggers send the same notifications inside the same transaction,
at no round trip (PostgreSQL folds identical ones and delivers them on commit).
SQLite has no NOTIFY; its processes watch ``PRAGMA data_version`` instead.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 07:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The channel and topics of storage/notify.py and bot/ports/signals.py.
_FUNCTIONS = """
CREATE OR REPLACE FUNCTION clipdesk_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('clipdesk', 'outbox:' || NEW.sink || ':' || NEW.route);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION clipdesk_notify_renders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('clipdesk', 'renders');
    RETURN NULL;
END $$;
"""

_TRIGGERS = """
CREATE TRIGGER clipdesk_outbox_written AFTER INSERT ON outbox
    FOR EACH ROW EXECUTE FUNCTION clipdesk_notify_outbox();

CREATE TRIGGER clipdesk_renders_queued AFTER INSERT ON renders
    FOR EACH STATEMENT EXECUTE FUNCTION clipdesk_notify_renders();

-- A waiting render made due (a cut's shots are ready), or a lease given back on a graceful stop:
-- another worker may take it now.
CREATE TRIGGER clipdesk_renders_released AFTER UPDATE ON renders
    FOR EACH ROW
    WHEN (NEW.lease_owner IS NULL
          AND NEW.status NOT IN ('ready', 'failed', 'cancelled')
          AND (OLD.lease_owner IS NOT NULL
               OR OLD.next_attempt_at IS DISTINCT FROM NEW.next_attempt_at))
    EXECUTE FUNCTION clipdesk_notify_renders();
"""


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(_FUNCTIONS)
    op.execute(_TRIGGERS)


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS clipdesk_renders_released ON renders")
    op.execute("DROP TRIGGER IF EXISTS clipdesk_renders_queued ON renders")
    op.execute("DROP TRIGGER IF EXISTS clipdesk_outbox_written ON outbox")
    op.execute("DROP FUNCTION IF EXISTS clipdesk_notify_renders()")
    op.execute("DROP FUNCTION IF EXISTS clipdesk_notify_outbox()")
