"""Create the drift results tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

NAME = 200


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False)


def upgrade() -> None:
    op.create_table(
        "drift_monitor",
        _id(),
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("config_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drift_monitor"),
        sa.UniqueConstraint("name", name="uq_drift_monitor_name"),
    )
    op.create_table(
        "drift_baseline",
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
        sa.PrimaryKeyConstraint("id", name="pk_drift_baseline"),
        sa.UniqueConstraint(
            "monitor", "feature", "version", name="uq_drift_baseline_monitor_feature_version"
        ),
    )
    op.create_index("ix_drift_baseline_monitor_version", "drift_baseline", ["monitor", "version"])
    op.create_table(
        "drift_run",
        _id(),
        sa.Column("monitor", sa.String(NAME), nullable=False),
        sa.Column("window_start", sa.DateTime, nullable=False),
        sa.Column("window_end", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("started_at", sa.DateTime, nullable=True),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.Column("duration_seconds", sa.Double, nullable=True),
        sa.Column("airflow_run_id", sa.String(250), nullable=True),
        sa.Column("written_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drift_run"),
        sa.UniqueConstraint(
            "monitor", "window_start", "window_end",
            name="uq_drift_run_monitor_window_start_window_end",
        ),
    )  # fmt: skip
    op.create_index("ix_drift_run_monitor_window_end", "drift_run", ["monitor", "window_end"])
    op.create_table(
        "drift_score",
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
        sa.PrimaryKeyConstraint("id", name="pk_drift_score"),
        sa.UniqueConstraint(
            "run_id", "feature", "metric", name="uq_drift_score_run_id_feature_metric"
        ),
    )
    op.create_index(
        "ix_drift_score_monitor_feature_metric_window_end",
        "drift_score",
        ["monitor", "feature", "metric", "window_end"],
    )
    op.create_index(
        "ix_drift_score_monitor_metric_window_end",
        "drift_score",
        ["monitor", "metric", "window_end"],
    )
    op.create_table(
        "drift_histogram",
        _id(),
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("feature", sa.String(NAME), nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
        sa.Column("reference_counts", sa.Text, nullable=False),
        sa.Column("contributions", sa.Text, nullable=False),
        sa.Column("missing", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drift_histogram"),
        sa.UniqueConstraint("run_id", "feature", name="uq_drift_histogram_run_id_feature"),
    )
    op.create_table(
        "drift_alert",
        _id(),
        sa.Column("monitor", sa.String(NAME), nullable=False),
        sa.Column("feature", sa.String(NAME), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("opened_run_id", sa.BigInteger, nullable=True),
        sa.Column("last_run_id", sa.BigInteger, nullable=True),
        sa.Column("resolved_run_id", sa.BigInteger, nullable=True),
        sa.Column("notification_key", sa.String(200), nullable=True),
        sa.Column("notified_at", sa.DateTime, nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("open_key", sa.String(450), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drift_alert"),
        sa.UniqueConstraint("notification_key", name="uq_drift_alert_notification_key"),
        sa.UniqueConstraint("open_key", name="uq_drift_alert_open_key"),
    )
    op.create_index("ix_drift_alert_monitor_state", "drift_alert", ["monitor", "state"])
    op.create_table(
        "drift_notification",
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
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("claimed_until", sa.DateTime, nullable=True),
        sa.Column("sent_at", sa.DateTime, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_drift_notification"),
        sa.UniqueConstraint("key", name="uq_drift_notification_key"),
    )
    op.create_index(
        "ix_drift_notification_monitor_sent_at", "drift_notification", ["monitor", "sent_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_drift_notification_monitor_sent_at", table_name="drift_notification")
    op.drop_table("drift_notification")
    op.drop_index("ix_drift_alert_monitor_state", table_name="drift_alert")
    op.drop_table("drift_alert")
    op.drop_table("drift_histogram")
    op.drop_index("ix_drift_score_monitor_metric_window_end", table_name="drift_score")
    op.drop_index("ix_drift_score_monitor_feature_metric_window_end", table_name="drift_score")
    op.drop_table("drift_score")
    op.drop_index("ix_drift_run_monitor_window_end", table_name="drift_run")
    op.drop_table("drift_run")
    op.drop_index("ix_drift_baseline_monitor_version", table_name="drift_baseline")
    op.drop_table("drift_baseline")
    op.drop_table("drift_monitor")
