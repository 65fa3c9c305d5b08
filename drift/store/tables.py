"""The results tables, as SQLAlchemy 2 metadata (the migrations create the same).

Every table is prefixed ``drift_`` so the results can share a database with
Airflow or anything else. Constraints and indexes are named by convention, so
the migrations are the same on every dialect. Ids are 52-bit integers made
by the store (DuckDB has no auto-increment), and there are no foreign keys
(DuckDB cannot update a referenced row): the store keeps runs, scores and
histograms consistent by writing them in one transaction. Times are naive
UTC in the database and aware UTC in Python (``UtcDateTime``). JSON is kept
in text columns, which every dialect holds the same way.

A ``segment`` names the rows a baseline, score, histogram or alert is about
(revision 0006): ``""`` is the whole population, else ``"country=BR"`` (see
:mod:`drift.stats.segments`); the keys that name ``feature`` name it next.
"""

from __future__ import annotations

import sqlalchemy as sa

from drift.store.convert import UtcDateTime

__all__ = [
    "VERSION_TABLE",
    "action",
    "alembic_version",
    "alert",
    "baseline",
    "histogram",
    "metadata",
    "monitor",
    "notification",
    "run",
    "score",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

#: Alembic's own version table; kept apart from ``metadata`` (Alembic writes it).
VERSION_TABLE = "drift_alembic_version"
alembic_version = sa.Table(
    VERSION_TABLE, sa.MetaData(), sa.Column("version_num", sa.String(32), primary_key=True)
)

NAME = 200  # monitor and feature names


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False)


monitor = sa.Table(
    "drift_monitor",
    metadata,
    _id(),
    sa.Column("name", sa.String(NAME), nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("config_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("name"),
)

baseline = sa.Table(
    "drift_baseline",
    metadata,
    _id(),
    sa.Column("monitor", sa.String(NAME), nullable=False),
    sa.Column("feature", sa.String(NAME), nullable=False),
    sa.Column("segment", sa.String(NAME), nullable=False, server_default=""),  # "" = all rows
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("binning_spec", sa.Text, nullable=False),
    sa.Column("labels", sa.Text, nullable=False),
    sa.Column("counts", sa.Text, nullable=False),
    sa.Column("missing", sa.BigInteger, nullable=False),
    sa.Column("reference_start", UtcDateTime, nullable=True),
    sa.Column("reference_end", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("monitor", "feature", "segment", "version"),
    sa.Index(None, "monitor", "version"),
)

run = sa.Table(
    "drift_run",
    metadata,
    _id(),
    sa.Column("monitor", sa.String(NAME), nullable=False),
    sa.Column("window_start", UtcDateTime, nullable=False),
    sa.Column("window_end", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("started_at", UtcDateTime, nullable=True),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.Column("duration_seconds", sa.Double, nullable=True),
    sa.Column("airflow_run_id", sa.String(250), nullable=True),
    sa.Column("written_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("monitor", "window_start", "window_end"),
    sa.Index(None, "monitor", "window_end"),
    sa.Index(None, "window_end"),  # prune's runs due, over every monitor (0004)
)

score = sa.Table(
    "drift_score",
    metadata,
    _id(),
    sa.Column("run_id", sa.BigInteger, nullable=False),
    sa.Column("monitor", sa.String(NAME), nullable=False),
    sa.Column("feature", sa.String(NAME), nullable=False),
    sa.Column("segment", sa.String(NAME), nullable=False, server_default=""),  # "" = all rows
    sa.Column("metric", sa.String(50), nullable=False),
    sa.Column("window_start", UtcDateTime, nullable=False),
    sa.Column("window_end", UtcDateTime, nullable=False),
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
    sa.UniqueConstraint("run_id", "feature", "segment", "metric"),
    sa.Index(None, "monitor", "feature", "segment", "metric", "window_end"),
    sa.Index(None, "monitor", "metric", "window_end"),
)

histogram = sa.Table(
    "drift_histogram",
    metadata,
    _id(),
    sa.Column("run_id", sa.BigInteger, nullable=False),
    sa.Column("feature", sa.String(NAME), nullable=False),
    sa.Column("segment", sa.String(NAME), nullable=False, server_default=""),  # "" = all rows
    sa.Column("labels", sa.Text, nullable=False),
    sa.Column("counts", sa.Text, nullable=False),
    sa.Column("reference_counts", sa.Text, nullable=False),
    sa.Column("contributions", sa.Text, nullable=False),
    sa.Column("missing", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("run_id", "feature", "segment"),
)

alert = sa.Table(
    "drift_alert",
    metadata,
    _id(),
    sa.Column("monitor", sa.String(NAME), nullable=False),
    sa.Column("feature", sa.String(NAME), nullable=False),
    sa.Column("segment", sa.String(NAME), nullable=False, server_default=""),  # "" = all rows
    sa.Column("severity", sa.String(10), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("opened_run_id", sa.BigInteger, nullable=True),
    sa.Column("last_run_id", sa.BigInteger, nullable=True),
    sa.Column("resolved_run_id", sa.BigInteger, nullable=True),
    sa.Column("notification_key", sa.String(200), nullable=True),
    sa.Column("notified_at", UtcDateTime, nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("open_key", sa.String(450), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("acknowledged_by", sa.String(200), nullable=True),
    sa.Column("acknowledged_at", UtcDateTime, nullable=True),
    sa.Column("acknowledged_note", sa.Text, nullable=True),
    sa.Column("resolved_reason", sa.Text, nullable=True),
    sa.UniqueConstraint("notification_key"),
    sa.UniqueConstraint("open_key"),
    sa.Index(None, "monitor", "state"),
)

#: One row per notification of an alert event on one channel: the outbox that
#: makes delivery exactly-once across retries and racing runs.
notification = sa.Table(
    "drift_notification",
    metadata,
    _id(),
    sa.Column("key", sa.String(250), nullable=False),
    sa.Column("alert_id", sa.BigInteger, nullable=False),
    sa.Column("monitor", sa.String(NAME), nullable=False),
    sa.Column("feature", sa.String(NAME), nullable=False),
    sa.Column("event", sa.String(20), nullable=False),
    sa.Column("severity", sa.String(10), nullable=False),
    sa.Column("channel", sa.String(500), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("claimed_until", UtcDateTime, nullable=True),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    # The snooze (drift_action id) that held it back; never sent then (revision 0005).
    sa.Column("suppressed_by", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("key"),
    sa.Index(None, "monitor", "sent_at"),
)

#: One row per on-call action (issue 16): acknowledge, snooze, accept_baseline.
action = sa.Table(
    "drift_action",
    metadata,
    _id(),
    sa.Column("monitor", sa.String(NAME), nullable=False),
    sa.Column("feature", sa.String(NAME), nullable=True),
    sa.Column("alert_id", sa.BigInteger, nullable=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("until", UtcDateTime, nullable=True),
    sa.Column("range_start", UtcDateTime, nullable=True),
    sa.Column("range_end", UtcDateTime, nullable=True),
    sa.Index(None, "monitor", "created_at"),
)
