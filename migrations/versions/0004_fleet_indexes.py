"""The results store at fleet size: indexes and retention (issue 18).

Measured on PostgreSQL with 200 monitors x 20 features x 90 days of hourly
runs (bench/bench_fleet_store.py, figures in bench/RESULTS.md). The reads of
the dashboards were already answered from the indexes of 0001; what scanned
a whole table was prune's look-up of the runs due, ``window_end < cutoff``
over every monitor, now an index range on ``drift_run (window_end)``, so a
daily prune reads only the day it deletes.

No partitioning: with this index and prune's batches the goals are met on
one table (see the README's Production section).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: name -> (table, columns); the names follow drift.store.tables' convention.
INDEXES = {
    "ix_drift_run_window_end": ("drift_run", ["window_end"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
