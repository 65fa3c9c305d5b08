"""Notifications a snooze held back (issue 16).

A notification recorded, or due for delivery, while a snooze of its monitor
or feature is in force is not sent: ``drift_notification.suppressed_by``
names the snooze (its ``drift_action`` id). It is kept, not deleted, so the
history says what would have gone out and why it did not. Pending
notifications are those neither sent nor suppressed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: drift_notification's plain index (revision 0001). DuckDB drops no column of
#: a table that has an index, so on DuckDB it is dropped around the column drop.
NOTIFICATION_INDEX = ("ix_drift_notification_monitor_sent_at", ["monitor", "sent_at"])


def upgrade() -> None:
    with op.batch_alter_table("drift_notification") as batch:
        batch.add_column(sa.Column("suppressed_by", sa.BigInteger, nullable=True))


def downgrade() -> None:
    duckdb = op.get_bind().dialect.name == "duckdb"
    if duckdb:
        op.drop_index(NOTIFICATION_INDEX[0], table_name="drift_notification")
    with op.batch_alter_table("drift_notification") as batch:
        batch.drop_column("suppressed_by")
    if duckdb:
        op.create_index(NOTIFICATION_INDEX[0], "drift_notification", NOTIFICATION_INDEX[1])
