"""On-call actions: acknowledgements, snoozes and accepted baselines (issue 16).

Adds ``drift_action`` (one row per action: who, when, what, note) and the
acknowledgement and resolution-reason columns of ``drift_alert``. Time
columns are ``DATETIME(6)`` on MariaDB/MySQL, as revision 0002 made the rest.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NAME = 200


def _time() -> sa.types.TypeEngine[object]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "drift_action",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("monitor", sa.String(NAME), nullable=False),
        sa.Column("feature", sa.String(NAME), nullable=True),
        sa.Column("alert_id", sa.BigInteger, nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("until", _time(), nullable=True),
        sa.Column("range_start", _time(), nullable=True),
        sa.Column("range_end", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_drift_action"),
    )
    op.create_index("ix_drift_action_monitor_created_at", "drift_action", ["monitor", "created_at"])
    with op.batch_alter_table("drift_alert") as batch:
        batch.add_column(sa.Column("acknowledged_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("acknowledged_at", _time(), nullable=True))
        batch.add_column(sa.Column("acknowledged_note", sa.Text, nullable=True))
        batch.add_column(sa.Column("resolved_reason", sa.Text, nullable=True))


#: drift_alert's plain index (revision 0001). DuckDB drops no column of a table
#: that has an index, so on DuckDB it is dropped around the column drops.
ALERT_INDEX = ("ix_drift_alert_monitor_state", ["monitor", "state"])


def downgrade() -> None:
    duckdb = op.get_bind().dialect.name == "duckdb"
    if duckdb:
        op.drop_index(ALERT_INDEX[0], table_name="drift_alert")
    with op.batch_alter_table("drift_alert") as batch:
        batch.drop_column("resolved_reason")
        batch.drop_column("acknowledged_note")
        batch.drop_column("acknowledged_at")
        batch.drop_column("acknowledged_by")
    if duckdb:
        op.create_index(ALERT_INDEX[0], "drift_alert", ALERT_INDEX[1])
    op.drop_index("ix_drift_action_monitor_created_at", table_name="drift_action")
    op.drop_table("drift_action")
