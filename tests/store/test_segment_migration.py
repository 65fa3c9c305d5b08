"""Revision 0006 (segments) on every backend: rows before it become the whole population's.

A store at 0005 is filled through plain SQL (the tables as they were), then
upgraded: every row reads back with segment ``""`` and the open alert keeps
its key (a window after the upgrade updates it, not a second one). Segment
rows written after it go on a downgrade, the whole population's stay.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from drift.alerts.types import AlertChange, OutgoingNotification
from drift.store import ResultsStore, current, downgrade, upgrade
from drift.store.records import RunRecord, ScoreRecord

pytestmark = pytest.mark.db

T0 = datetime(2024, 6, 1)
DAY = timedelta(days=1)


def _table(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns))


RUN = _table("drift_run", "id", "monitor", "window_start", "window_end", "status", "written_at")
SCORE = _table(
    "drift_score", "id", "run_id", "monitor", "feature", "metric", "window_start", "window_end",
    "value", "n_current", "n_reference", "missing_rate", "severity", "smoothing", "alpha",
)  # fmt: skip
HISTOGRAM = _table("drift_histogram", "id", "run_id", "feature", "labels", "counts",
                   "reference_counts", "contributions", "missing")  # fmt: skip
BASELINE = _table("drift_baseline", "id", "monitor", "feature", "version", "kind", "binning_spec",
                  "labels", "counts", "missing", "created_at")  # fmt: skip
ALERT = _table("drift_alert", "id", "monitor", "feature", "severity", "state", "opened_run_id",
               "last_run_id", "open_key", "created_at", "updated_at")  # fmt: skip
NOTIFICATION = _table(
    "drift_notification", "id", "key", "alert_id", "monitor", "feature", "event", "severity",
    "channel", "title", "body", "created_at", "attempts",
)  # fmt: skip


def _fill_at_0005(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(RUN.insert().values(id=1, monitor="m", window_start=T0, window_end=T0 + DAY,
                                         status="ok", written_at=T0))  # fmt: skip
        conn.execute(SCORE.insert().values(
            id=2, run_id=1, monitor="m", feature="amount", metric="kl", window_start=T0,
            window_end=T0 + DAY, value=0.1, n_current=10, n_reference=100, missing_rate=0.0,
            severity="warn", smoothing="lidstone", alpha=0.5,
        ))  # fmt: skip
        conn.execute(HISTOGRAM.insert().values(
            id=3, run_id=1, feature="amount", labels='["a"]', counts="[10]",
            reference_counts="[100]", contributions="[0.1]", missing=0,
        ))  # fmt: skip
        conn.execute(BASELINE.insert().values(
            id=4, monitor="m", feature="amount", version=1, kind="categorical",
            binning_spec='{"categories":["a"],"kind":"categorical"}', labels='["a"]',
            counts="[100]", missing=0, created_at=T0,
        ))  # fmt: skip
        conn.execute(ALERT.insert().values(
            id=5, monitor="m", feature="amount", severity="warn", state="open", opened_run_id=1,
            last_run_id=1, open_key="m\x1famount", created_at=T0, updated_at=T0,
        ))  # fmt: skip
        conn.execute(NOTIFICATION.insert().values(
            id=6, key="5:open:warn:0", alert_id=5, monitor="m", feature="amount", event="open",
            severity="warn", channel="apprise[0]", title="t", body="b", created_at=T0,
            attempts=0,
        ))  # fmt: skip
    engine.dispose()


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
    engine.dispose()
    return int(n)


def test_rows_before_segments_are_the_whole_populations(db_url: str) -> None:
    upgrade(db_url, "0005")
    _fill_at_0005(db_url)
    upgrade(db_url)
    store = ResultsStore(db_url)
    try:
        (score,) = store.run_scores(1)
        assert (score.feature, score.segment, score.value) == ("amount", "", 0.1)
        assert [h.segment for h in store.run_histograms(1)] == [""]
        assert [(b.feature, b.segment) for b in store.baseline_in_force("m")] == [("amount", "")]
        (alert,) = store.open_alerts("m")
        assert alert.segment == ""
        # The open alert kept its key: the next window updates it.
        run_id = store.write_run(RunRecord(
            monitor="m", window_start=T0 + DAY, window_end=T0 + 2 * DAY, status="ok", error=None,
            started_at=None, finished_at=None, duration_seconds=None, airflow_run_id=None,
            scores=tuple(
                ScoreRecord("amount", "kl", v, v, 0.01, 0.01, 10, 100, 0.0, sev, 0.05, 0.2,
                            "lidstone", 0.5, segment=s)
                for s, v, sev in (("", 0.1, "warn"), ("country=BR", 0.5, "critical"))
            ),
        ))  # fmt: skip
        change = AlertChange("m", "amount", "update", "warn", run_id, "still", "warn")
        assert store.apply_alert_change(change) == 5
        note = OutgoingNotification("open:critical:0:country=BR", "apprise[0]", "t", "b")
        br = AlertChange("m", "amount", "open", "critical", run_id, "br", None, (note,),
                         segment="country=BR")  # fmt: skip
        assert store.apply_alert_change(br) not in (None, 5)
    finally:
        store.close()
    assert [_count(db_url, x) for x in ("drift_score", "drift_alert", "drift_notification")] == [
        3, 2, 2,
    ]  # fmt: skip
    downgrade(db_url, "0005")
    assert current(db_url) == "0005"
    # The segment's score, alert and notification went; the whole population's rows stayed.
    tables = ("drift_score", "drift_histogram", "drift_baseline", "drift_alert",
              "drift_notification")  # fmt: skip
    assert [_count(db_url, x) for x in tables] == [2, 1, 1, 1, 1]
    upgrade(db_url)
    assert _count(db_url, "drift_score") == 2
