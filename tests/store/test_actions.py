"""The on-call store API (issue 16, its store part): each action is a row, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from stored import open_alert

from drift.errors import ActionError
from drift.store import ResultsStore
from drift.store.records import RunRecord, ScoreRecord

pytestmark = pytest.mark.db

T0 = datetime(2024, 6, 1, tzinfo=UTC)
NOW = datetime(2024, 6, 3, 12, tzinfo=UTC)


def _run(store: ResultsStore, features: tuple[str, ...] = ("amount", "country")) -> int:
    scores = tuple(
        ScoreRecord(
            feature=f,
            metric="kl",
            value=0.3,
            value_corrected=0.25,
            p_value=0.001,
            p_adjusted=0.002,
            n_current=100,
            n_reference=100,
            missing_rate=0.0,
            severity="warn",
            warn_threshold=0.1,
            critical_threshold=0.5,
            smoothing="lidstone",
            alpha=0.5,
        )
        for f in features
    )
    store.save_monitor("orders", {"name": "orders"})
    return store.write_run(
        RunRecord(
            monitor="orders",
            window_start=T0,
            window_end=T0 + timedelta(days=1),
            status="ok",
            error=None,
            started_at=None,
            finished_at=None,
            duration_seconds=None,
            airflow_run_id=None,
            scores=scores,
            histograms=(),
        )
    )


def test_acknowledge_keeps_the_alert_open_and_marked(store: ResultsStore) -> None:
    run_id = _run(store)
    open_alert(store, "orders", "amount", run_id)
    (alert,) = store.open_alerts("orders")
    row = store.acknowledge(alert.id, actor="ana", note="launch in BR", now=NOW)
    assert (row.kind, row.alert_id, row.feature, row.actor) == (
        "acknowledge",
        alert.id,
        "amount",
        "ana",
    )
    (after,) = store.open_alerts("orders")
    assert after.state == "open"
    assert (after.acknowledged_by, after.acknowledged_at, after.acknowledged_note) == (
        "ana", NOW, "launch in BR",
    )  # fmt: skip
    assert [a.kind for a in store.actions("orders")] == ["acknowledge"]
    with pytest.raises(ActionError, match="no alert with id 424242"):
        store.acknowledge(424242, actor="ana", note="x", now=NOW)


def test_snooze_is_in_force_until_its_end(store: ResultsStore) -> None:
    _run(store)
    store.snooze("orders", feature="country", until=NOW + timedelta(days=2), actor="bo",
                 note="migration", now=NOW)  # fmt: skip
    assert [s.feature for s in store.active_snoozes("orders", at=NOW + timedelta(days=1))] == [
        "country"
    ]
    assert store.active_snoozes("orders", at=NOW + timedelta(days=3)) == []
    with pytest.raises(ActionError, match="not in the future"):
        store.snooze("orders", feature=None, until=NOW - timedelta(hours=1), actor="bo",
                     note="x", now=NOW)  # fmt: skip
    with pytest.raises(ActionError, match="unknown monitor 'nope'"):
        store.snooze("nope", feature=None, until=NOW + timedelta(days=1), actor="bo",
                     note="x", now=NOW)  # fmt: skip
    with pytest.raises(ActionError, match="has no feature 'ghost'"):
        store.snooze("orders", feature="ghost", until=NOW + timedelta(days=1), actor="bo",
                     note="x", now=NOW)  # fmt: skip


def test_accepting_a_baseline_resolves_what_it_explains_with_the_reason(
    store: ResultsStore,
) -> None:
    run_id = _run(store)
    open_alert(store, "orders", "amount", run_id)
    open_alert(store, "orders", "country", run_id)
    start, end = T0, T0 + timedelta(days=1)
    row = store.accept_baseline("orders", feature="amount", start=start, end=end, actor="ana",
                                note="new market", now=NOW)  # fmt: skip
    assert (row.range_start, row.range_end) == (start, end)
    assert [a.feature for a in store.open_alerts("orders")] == ["country"]
    (resolved,) = [a for a in store.alerts("orders") if a.feature == "amount"]
    assert resolved.state == "resolved"
    assert resolved.resolved_reason is not None and "accepted by ana" in resolved.resolved_reason
    assert [a.kind for a in store.accepted_baselines("orders")] == ["accept_baseline"]
    with pytest.raises(ActionError, match="empty or reversed"):
        store.accept_baseline("orders", feature=None, start=end, end=start, actor="ana",
                              note="x", now=NOW)  # fmt: skip
    with pytest.raises(ActionError, match="note is empty"):
        store.accept_baseline("orders", feature=None, start=start, end=end, actor="ana",
                              note=" ", now=NOW)  # fmt: skip
