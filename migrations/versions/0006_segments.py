"""Segments (issue 19): results, baselines and incidents per segment.

Adds ``segment`` (``VARCHAR(200) NOT NULL DEFAULT ''``) to ``drift_baseline``,
``drift_score``, ``drift_histogram`` and ``drift_alert``. A segment is named
by a string: ``''`` is the whole population (every existing row keeps it),
else ``'country=BR'`` or ``'country=BR, device=ios'``. The unique
constraints and indexes that name ``feature`` name ``segment`` right after
it, so a run holds one score per (feature, segment, metric) and a baseline
version one row per (feature, segment).

Notifications and on-call actions need no segment: a notification belongs to
one alert (which has it), and an action on a feature applies to all its
segments.

DuckDB alters no constraint and adds no column to a table with an index:
there the three tables whose constraints change are rebuilt (new table, rows
copied, old one dropped, new one renamed, indexes made again), and
``drift_alert``'s index is dropped around its new column.

Downgrading deletes the segment rows (``segment <> ''``: scores, histograms,
baselines, alerts and the alerts' notifications), which the schema before
has no room for; the whole population's rows are kept.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NAME = 200


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False)


def _segment() -> sa.Column[str]:
    return sa.Column("segment", sa.String(NAME), nullable=False, server_default="")


#: table -> (unique constraint before, unique constraint after), as (name, columns).
UNIQUE = {
    "drift_baseline": (
        ("uq_drift_baseline_monitor_feature_version", ["monitor", "feature", "version"]),
        ("uq_drift_baseline_monitor_feature_segment_version",
         ["monitor", "feature", "segment", "version"]),
    ),
    "drift_score": (
        ("uq_drift_score_run_id_feature_metric", ["run_id", "feature", "metric"]),
        ("uq_drift_score_run_id_feature_segment_metric",
         ["run_id", "feature", "segment", "metric"]),
    ),
    "drift_histogram": (
        ("uq_drift_histogram_run_id_feature", ["run_id", "feature"]),
        ("uq_drift_histogram_run_id_feature_segment", ["run_id", "feature", "segment"]),
    ),
}  # fmt: skip

#: Indexes that name ``feature``: (table, before, after), each as (name, columns).
FEATURE_INDEXES = (
    ("drift_score",
     ("ix_drift_score_monitor_feature_metric_window_end",
      ["monitor", "feature", "metric", "window_end"]),
     ("ix_drift_score_monitor_feature_segment_metric_window_end",
      ["monitor", "feature", "segment", "metric", "window_end"])),
)  # fmt: skip

#: Indexes that stay as they are: DuckDB makes them again on a rebuilt table.
KEPT_INDEXES = {
    "drift_baseline": [("ix_drift_baseline_monitor_version", ["monitor", "version"])],
    "drift_score": [
        ("ix_drift_score_monitor_metric_window_end", ["monitor", "metric", "window_end"])
    ],
    "drift_histogram": [],
}
ALERT_INDEX = ("ix_drift_alert_monitor_state", ["monitor", "state"])


def _baseline_columns() -> list[sa.Column[object]]:
    return [
        _id(),
        sa.Column("monitor", sa.String(NAME), nullable=False),
        sa.Column("feature", sa.String(NAME), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("binning_spec", sa.Text, nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
        sa.Column("missing", sa.BigInteger, nullable=False),
        sa.Column("reference_start", sa.DateTime, nullable=True),
        sa.Column("reference_end", sa.DateTime, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    ]


def _score_columns() -> list[sa.Column[object]]:
    return [
        _id(),
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("monitor", sa.String(NAME), nullable=False),
        sa.Column("feature", sa.String(NAME), nullable=False),
        sa.Column("metric", sa.String(50), nullable=False),
        sa.Column("window_start", sa.DateTime, nullable=False),
        sa.Column("window_end", sa.DateTime, nullable=False),
        sa.Column("value", sa.Double, nullable=True),
        sa.Column("value_corrected", sa.Double, nullable=True),
        sa.Column("p_value", sa.Double, nullable=True),
        sa.Column("p_adjusted", sa.Double, nullable=True),
        sa.Column("n_current", sa.BigInteger, nullable=False),
        sa.Column("n_reference", sa.BigInteger, nullable=False),
        sa.Column("missing_rate", sa.Double, nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("warn_threshold", sa.Double, nullable=True),
        sa.Column("critical_threshold", sa.Double, nullable=True),
        sa.Column("smoothing", sa.String(20), nullable=False),
        sa.Column("alpha", sa.Double, nullable=False),
    ]


def _histogram_columns() -> list[sa.Column[object]]:
    return [
        _id(),
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("feature", sa.String(NAME), nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
        sa.Column("reference_counts", sa.Text, nullable=False),
        sa.Column("contributions", sa.Text, nullable=False),
        sa.Column("missing", sa.BigInteger, nullable=False),
    ]


#: The columns of the rebuilt tables as revision 0005 left them (segment excluded).
COLUMNS: dict[str, Callable[[], list[sa.Column[object]]]] = {
    "drift_baseline": _baseline_columns,
    "drift_score": _score_columns,
    "drift_histogram": _histogram_columns,
}


def _duckdb() -> bool:
    return op.get_bind().dialect.name == "duckdb"


def _feature_indexes(table: str, *, after: bool) -> list[tuple[str, list[str]]]:
    return [(a if after else b) for t, b, a in FEATURE_INDEXES if t == table]


def _rebuild(table: str, *, segment: bool) -> None:
    """DuckDB: make ``table`` again with or without ``segment`` and its constraints.

    Rows are copied across (only the whole population's when ``segment`` goes).
    """
    before, after = UNIQUE[table]
    name, columns = after if segment else before
    scratch = f"{table}__0006"
    kept = [c.name for c in COLUMNS[table]()]
    op.create_table(
        scratch,
        *COLUMNS[table](),
        *([_segment()] if segment else []),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sa.UniqueConstraint(*columns, name=name),
    )
    old = sa.table(table, *(sa.column(c) for c in [*kept, "segment"]))
    new = sa.table(scratch, *(sa.column(c) for c in [*kept, "segment"]))
    if segment:
        rows = sa.select(*(old.c[c] for c in kept), sa.literal("").label("segment"))
        op.execute(new.insert().from_select([*kept, "segment"], rows))
    else:
        rows = sa.select(*(old.c[c] for c in kept)).where(old.c.segment == "")
        op.execute(new.insert().from_select(kept, rows))
    op.drop_table(table)
    op.rename_table(scratch, table)
    for index, index_columns in KEPT_INDEXES[table] + _feature_indexes(table, after=segment):
        op.create_index(index, table, index_columns)


def _alter(table: str, *, segment: bool) -> None:
    """Every other dialect: add or drop ``segment`` and swap the constraint and indexes."""
    before, after = UNIQUE[table]
    old, new = (before, after) if segment else (after, before)
    with op.batch_alter_table(table) as batch:
        for index, _columns in _feature_indexes(table, after=not segment):
            batch.drop_index(index)
        batch.drop_constraint(old[0], type_="unique")
        if segment:
            batch.add_column(_segment())
        else:
            batch.drop_column("segment")
        batch.create_unique_constraint(new[0], new[1])
        for index, columns in _feature_indexes(table, after=segment):
            batch.create_index(index, columns)


def _alert_column(*, segment: bool) -> None:
    duckdb = _duckdb()
    if duckdb:
        op.drop_index(ALERT_INDEX[0], table_name="drift_alert")
    with op.batch_alter_table("drift_alert") as batch:
        if segment:
            batch.add_column(_segment())
        else:
            batch.drop_column("segment")
    if duckdb:
        op.create_index(ALERT_INDEX[0], "drift_alert", ALERT_INDEX[1])


def upgrade() -> None:
    for table in UNIQUE:
        if _duckdb():
            _rebuild(table, segment=True)
        else:
            _alter(table, segment=True)
    _alert_column(segment=True)


def downgrade() -> None:
    a = sa.table("drift_alert", sa.column("id"), sa.column("segment"))
    n = sa.table("drift_notification", sa.column("alert_id"))
    segmented = sa.select(a.c.id).where(a.c.segment != "")
    op.execute(n.delete().where(n.c.alert_id.in_(segmented)))
    op.execute(a.delete().where(a.c.segment != ""))
    _alert_column(segment=False)
    for table in UNIQUE:
        if _duckdb():
            _rebuild(table, segment=False)
        else:
            rows = sa.table(table, sa.column("segment"))
            op.execute(rows.delete().where(rows.c.segment != ""))
            _alter(table, segment=False)
