"""Incidents follow window time: a window older than the one that last changed a
feature's alert is stored but opens, escalates and resolves nothing.

With the real pipeline (a SQL source on every backend, ``drift.run.run_window``
and ``drift.run.backfill``) and with the store directly.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from drift.alerts import dispatch_alerts
from drift.alerts.types import AlertChange, FeatureSummary, WindowSummary
from drift.config import MonitorConfig, parse_monitor
from drift.run import backfill, run_window
from drift.store import ResultsStore
from drift.store.records import RunRecord, ScoreRecord

pytestmark = pytest.mark.db

UTC_DAY = timedelta(days=1)
FIRST = datetime(2024, 2, 20, tzinfo=UTC)
LAST = datetime(2024, 4, 22, tzinfo=UTC)
SHIFTED = datetime(2024, 4, 11, tzinfo=UTC)  # the one day whose data moved
ROWS_PER_DAY = 120


def _make_events(url: str) -> None:
    rng = random.Random(5)
    rows = []
    step = UTC_DAY / ROWS_PER_DAY
    ts = FIRST
    while ts < LAST:
        moved = SHIFTED <= ts < SHIFTED + UTC_DAY
        rows.append(
            {
                "created_at": ts.replace(tzinfo=None),
                "amount": rng.gauss(80 if moved else 50, 10),
                "country": rng.choice(["US", "JP", "JP", "JP"] if moved else ["US", "DE", "FR"]),
            }
        )
        ts += step
    engine = sa.create_engine(url)
    table = sa.Table(
        "events",
        sa.MetaData(),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("amount", sa.Double),
        sa.Column("country", sa.String(8)),
    )
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    engine.dispose()


def _monitor(url: str) -> MonitorConfig:
    return parse_monitor(
        {
            "name": "orders",
            "source": {"url": url},
            "table": "events",
            "timestamp": "created_at",
            "window": "1d",
            "reference": {"previous_windows": 3},
            "thresholds": {"min_rows": 50},
            "features": [
                {"name": "amount", "kind": "numeric", "bins": 6},
                {"name": "country", "kind": "categorical", "top_k": 4},
            ],
            # an unreachable channel: notifications are recorded (and fail to send)
            "alerts": [{"apprise": "json://127.0.0.1:9/hook"}],
        }
    )


def _alert_rows(store: ResultsStore) -> list[Any]:
    return sorted(
        (a.id, a.feature, a.severity, a.state, a.opened_run_id, a.last_run_id,
         a.resolved_run_id, a.message)
        for a in store.alerts("orders")
    )  # fmt: skip


def _notification_rows(store: ResultsStore) -> list[Any]:
    return sorted((n.key, n.event, n.severity, n.channel) for n in store.notifications("orders"))


def _window_end(store: ResultsStore, run_id: int | None) -> datetime | None:
    ends = {r.id: r.window_end for r in store.runs("orders")}
    return None if run_id is None else ends[run_id]


def test_a_backfill_of_older_history_leaves_the_open_incidents_alone(
    db_url: str, store: ResultsStore
) -> None:
    _make_events(db_url)
    monitor = _monitor(db_url)
    run_window(monitor, SHIFTED, SHIFTED + UTC_DAY, store=store)
    opened = store.open_alerts("orders")
    assert {a.feature for a in opened} == {"amount", "country"}
    alerts, notes = _alert_rows(store), _notification_rows(store)
    assert [n[1] for n in notes] == ["open", "open"]
    runs_before = len(store.runs("orders"))

    backfill(monitor, datetime(2024, 3, 1, tzinfo=UTC), SHIFTED - UTC_DAY, store=store)
    assert len(store.runs("orders")) > runs_before + 30  # the history was measured and stored
    assert _alert_rows(store) == alerts
    assert _notification_rows(store) == notes

    backfill(monitor, datetime(2024, 3, 1, tzinfo=UTC), SHIFTED - UTC_DAY, store=store)
    assert _alert_rows(store) == alerts
    assert _notification_rows(store) == notes

    # The same latest window again: the same decision, nobody notified twice.
    run_window(monitor, SHIFTED, SHIFTED + UTC_DAY, store=store)
    assert [a[:-1] for a in _alert_rows(store)] == [a[:-1] for a in alerts]  # message: "update"
    assert _notification_rows(store) == notes


def test_a_backfill_newer_than_the_incident_updates_it_in_window_order(
    db_url: str, store: ResultsStore
) -> None:
    _make_events(db_url)
    monitor = _monitor(db_url)
    run_window(monitor, SHIFTED, SHIFTED + UTC_DAY, store=store)
    backfill(monitor, SHIFTED + UTC_DAY, LAST - UTC_DAY, store=store)
    alerts = store.alerts("orders")
    assert {a.feature for a in alerts} == {"amount", "country"}
    assert all(a.state == "resolved" for a in alerts)
    for a in alerts:
        resolved_at = _window_end(store, a.resolved_run_id)
        # Resolved by a window after the shift, once resolve_after clean windows had passed.
        assert resolved_at is not None and resolved_at >= SHIFTED + 4 * UTC_DAY
        assert a.last_run_id == a.resolved_run_id
    rows, notes = _alert_rows(store), _notification_rows(store)
    assert sorted(n[1] for n in notes) == ["open", "open"]  # a backfill notifies nobody

    # Again, and the whole history too: the same incidents.
    backfill(monitor, SHIFTED + UTC_DAY, LAST - UTC_DAY, store=store)
    backfill(monitor, datetime(2024, 3, 1, tzinfo=UTC), LAST - UTC_DAY, store=store)
    assert _alert_rows(store) == rows
    assert _notification_rows(store) == notes


# The store directly.

T0 = datetime(2024, 7, 1, tzinfo=UTC)


def _window(
    store: ResultsStore, day: int, severity: str, value: float, missing: float | None = None
) -> WindowSummary:
    """One stored window; ``missing``: its missing rate moved from 0 to that, significantly."""
    start = T0 + day * UTC_DAY
    run_id = store.write_run(
        RunRecord(
            monitor="checkout", window_start=start, window_end=start + UTC_DAY, status="ok",
            error=None, started_at=start, finished_at=start, duration_seconds=0.1,
            airflow_run_id=None,
            scores=(ScoreRecord("amount", "kl", value, value, 1e-9, 1e-8, 1000, 10000,
                                missing or 0.0, severity, 0.05, 0.2, "lidstone", 0.5),),
        )
    )  # fmt: skip
    return WindowSummary(
        monitor="checkout", window_start=start, window_end=start + UTC_DAY, status="ok",
        run_id=run_id, error=None, drifted=(), max_severity=severity,
        features=(FeatureSummary("amount", "numeric", severity, severity != "ok", True,
                                 {"kl": value, "kl_corrected": value}, 1e-9, 1e-8, 1000,
                                 10000, missing or 0.0, missing_reference_rate=0.0,
                                 missing_drifted=missing is not None),),
    )  # fmt: skip


def _checkout(**thresholds: Any) -> MonitorConfig:
    return parse_monitor(
        {
            "name": "checkout", "source": {"url": "sqlite://"}, "table": "events",
            "timestamp": "ts", "thresholds": thresholds,
            "alerts": [{"apprise": "json://127.0.0.1:9/hook"}],
        }
    )  # fmt: skip


def _state(store: ResultsStore) -> tuple[list[Any], list[Any]]:
    """Alerts and notifications of ``checkout`` (without delivery attempts and times)."""
    alerts = [(a.id, a.severity, a.state, a.last_run_id, a.message)
              for a in store.alerts("checkout")]  # fmt: skip
    notes = [(n.key, n.event, n.severity) for n in store.notifications("checkout")]
    return alerts, notes


def _events(store: ResultsStore, monitor: MonitorConfig, summary: WindowSummary) -> list[str]:
    return [e["event"] for e in dispatch_alerts(monitor, summary, store=store)["events"]]


def test_the_watermark_is_the_window_that_last_touched_the_alert(store: ResultsStore) -> None:
    monitor = _checkout()
    assert store.alert_watermark("checkout", "amount") is None
    assert _events(store, monitor, _window(store, 10, "warn", 0.1)) == ["open"]
    assert store.alert_watermark("checkout", "amount") == T0 + 11 * UTC_DAY
    assert _events(store, monitor, _window(store, 11, "critical", 0.3)) == ["escalate"]
    assert store.alert_watermark("checkout", "amount") == T0 + 12 * UTC_DAY
    assert store.alert_watermark("checkout", "other") is None


def test_older_windows_change_no_incident(store: ResultsStore) -> None:
    monitor = _checkout()
    assert _events(store, monitor, _window(store, 10, "warn", 0.1)) == ["open"]
    before = _state(store)
    for day in range(10):  # older, clean windows: they would resolve it
        assert _events(store, monitor, _window(store, day, "ok", 0.0)) == []
    assert _events(store, monitor, _window(store, 9, "critical", 0.5)) == []  # nor escalate
    assert _state(store) == before
    # The same window again is allowed, and quiet.
    assert _events(store, monitor, _window(store, 10, "warn", 0.1)) == ["update"]
    assert _state(store)[1] == before[1]
    # Newer windows go on in order: three clean windows resolve it.
    events = [_events(store, monitor, _window(store, d, "ok", 0.0)) for d in (11, 12, 13)]
    assert events == [["update"], ["update"], ["resolve"]]
    # An older window cannot reopen what a newer one resolved.
    assert _events(store, monitor, _window(store, 12, "critical", 0.5)) == []
    assert [a.state for a in store.alerts("checkout")] == ["resolved"]


def test_the_store_refuses_a_change_from_an_older_window(store: ResultsStore) -> None:
    newer = _window(store, 5, "warn", 0.1)
    older = _window(store, 4, "ok", 0.0)
    assert newer.run_id is not None and older.run_id is not None
    opened = store.apply_alert_change(
        AlertChange("checkout", "amount", "open", "warn", newer.run_id, "m", None)
    )
    assert opened is not None
    stale = AlertChange("checkout", "amount", "resolve", "ok", older.run_id, "m", "warn")
    assert store.apply_alert_change(stale) is None
    (alert,) = store.alerts("checkout")
    assert (alert.state, alert.last_run_id) == ("open", newer.run_id)
    same = AlertChange("checkout", "amount", "update", "warn", newer.run_id, "m2", "warn")
    assert store.apply_alert_change(same) == opened


def test_recent_scores_are_the_kl_rows_newest_first(store: ResultsStore) -> None:
    for day, (sev, value) in enumerate([("ok", 0.01), ("warn", 0.07), ("critical", 0.3)]):
        _window(store, day, sev, value)
    recent = store.recent_scores("checkout", "amount", "kl", T0 + 2 * UTC_DAY, 5, corrected=True)
    assert [(r.window_end, r.severity, r.value) for r in recent] == [
        (T0 + 2 * UTC_DAY, "warn", 0.07), (T0 + UTC_DAY, "ok", 0.01),
    ]  # fmt: skip
    assert store.recent_severities("checkout", "amount", "kl", T0 + 3 * UTC_DAY, 2) == [
        "critical", "warn",
    ]  # fmt: skip
    missing_metric = store.recent_scores("checkout", "amount", "psi", T0 + 3 * UTC_DAY, 1)
    assert [(r.severity, r.value) for r in missing_metric] == [("critical", None)]


def test_a_changed_missing_rate_alerts_at_warn_and_counts_until_it_ends(
    store: ResultsStore,
) -> None:
    monitor = _checkout()
    events = [_events(store, monitor, _window(store, 0, "ok", 0.0, missing=0.3))]
    (alert,) = store.open_alerts("checkout")
    assert alert.severity == "warn"
    assert "missing" in (alert.message or "")
    events += [_events(store, monitor, _window(store, d, "ok", 0.0, missing=0.3)) for d in (1, 2)]
    events += [_events(store, monitor, _window(store, d, "ok", 0.0)) for d in (3, 4, 5)]
    assert events == [["open"], ["update"], ["update"], ["update"], ["update"], ["resolve"]]


def test_missing_rate_windows_make_a_streak_with_consecutive(store: ResultsStore) -> None:
    monitor = _checkout(consecutive=2)
    assert _events(store, monitor, _window(store, 0, "ok", 0.0, missing=0.3)) == []
    assert _events(store, monitor, _window(store, 1, "ok", 0.0, missing=0.3)) == ["open"]


def test_a_missing_rate_that_did_not_change_alerts_nothing(store: ResultsStore) -> None:
    monitor = _checkout()
    assert [_events(store, monitor, _window(store, d, "ok", 0.0)) for d in range(3)] == [[]] * 3
