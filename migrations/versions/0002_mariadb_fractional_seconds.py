"""Keep fractions of a second in MariaDB/MySQL time columns (DATETIME(6)).

A plain ``DATETIME`` there drops microseconds, so run timings, alert and
notification times lost their sub-second part (and two events in one second
could not be ordered). Other dialects' ``DateTime`` already keep them: this
revision changes nothing there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Every time column of 0001: table -> (column, nullable).
TIME_COLUMNS = {
    "drift_monitor": (("created_at", False), ("updated_at", False)),
    "drift_baseline": (
        ("reference_start", True), ("reference_end", True), ("created_at", False),
    ),
    "drift_run": (
        ("window_start", False), ("window_end", False), ("started_at", True),
        ("finished_at", True), ("written_at", False),
    ),
    "drift_score": (("window_start", False), ("window_end", False)),
    "drift_alert": (("notified_at", True), ("created_at", False), ("updated_at", False)),
    "drift_notification": (("created_at", False), ("claimed_until", True), ("sent_at", True)),
}  # fmt: skip


def _alter(to: sa.types.TypeEngine[object], was: sa.types.TypeEngine[object]) -> None:
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        return
    for table, columns in TIME_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column, nullable in columns:
                batch.alter_column(column, type_=to, existing_type=was, existing_nullable=nullable)


def upgrade() -> None:
    _alter(mysql.DATETIME(fsp=6), mysql.DATETIME())


def downgrade() -> None:
    _alter(mysql.DATETIME(), mysql.DATETIME(fsp=6))
