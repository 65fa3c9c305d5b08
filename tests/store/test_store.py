"""ResultsStore: idempotent runs, atomic writes, racing writers, reads, retention."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from stored import open_alert, resolve_alert, stored_scores

from drift.alerts.types import AlertChange, OutgoingNotification
from drift.errors import StoreError
from drift.store import ResultsStore, downgrade, upgrade
from drift.store import tables as t
from drift.store.records import BaselineRecord, HistogramRecord, RunRecord, ScoreRecord

pytestmark = pytest.mark.db

T0 = datetime(2024, 6, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _score(feature: str, value: float, severity: str = "ok", metric: str = "kl") -> ScoreRecord:
    return ScoreRecord(
        feature=feature, metric=metric, value=value, value_corrected=value / 2,
        p_value=0.5, p_adjusted=0.6, n_current=100, n_reference=1000, missing_rate=0.01,
        severity=severity, warn_threshold=0.05, critical_threshold=0.2,
        smoothing="lidstone", alpha=0.5,
    )  # fmt: skip


def _hist(feature: str, counts: tuple[int, ...] = (1, 2, 3)) -> HistogramRecord:
    return HistogramRecord(
        feature=feature, labels=("a", "b", "c"), counts=counts, missing=0,
        reference_counts=(3, 2, 1), contributions=(0.1, 0.0, -0.05),
    )  # fmt: skip


def _run(
    start: datetime,
    features: tuple[str, ...] = ("x", "y"),
    value: float = 0.01,
    monitor: str = "m",
    status: str = "ok",
) -> RunRecord:
    return RunRecord(
        monitor=monitor, window_start=start, window_end=start + HOUR, status=status,
        error=None, started_at=start, finished_at=start, duration_seconds=0.5,
        airflow_run_id="scheduled__x",
        scores=tuple(_score(f, value) for f in features),
        histograms=tuple(_hist(f) for f in features),
    )  # fmt: skip


def _count(store: ResultsStore, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_rewriting_a_window_replaces_its_rows_and_keeps_its_id(store: ResultsStore) -> None:
    first = store.write_run(_run(T0, value=0.01))
    second = store.write_run(_run(T0, value=0.02))
    assert first == second
    assert (_count(store, t.run), _count(store, t.score), _count(store, t.histogram)) == (1, 2, 2)
    (point,) = stored_scores(store, "m", "kl", T0 - HOUR, T0 + HOUR, "x")
    assert point.value == 0.02


def test_a_failure_between_scores_and_histograms_leaves_the_previous_run(
    store: ResultsStore,
) -> None:
    store.write_run(_run(T0, value=0.01))
    # Two histograms for one feature break the unique key after the scores went in.
    broken = replace(_run(T0, value=0.99), histograms=(_hist("x"), _hist("x")))
    with pytest.raises(StoreError):
        store.write_run(broken)
    (point,) = stored_scores(store, "m", "kl", T0 - HOUR, T0 + HOUR, "x")
    assert point.value == 0.01
    assert (_count(store, t.run), _count(store, t.score), _count(store, t.histogram)) == (1, 2, 2)


def test_two_writers_racing_on_one_window_leave_one_run(store: ResultsStore, db_url: str) -> None:
    other = ResultsStore(db_url) if not db_url.startswith("duckdb") else store
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(s: ResultsStore, value: float) -> None:
        try:
            barrier.wait()
            s.write_run(_run(T0, value=value))
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(store, 0.1)),
        threading.Thread(target=write, args=(other, 0.2)),
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert (_count(store, t.run), _count(store, t.score), _count(store, t.histogram)) == (1, 2, 2)
    if other is not store:
        other.close()


def test_reads_return_utc_aware_times_in_window_order(store: ResultsStore) -> None:
    plus_two = timezone(timedelta(hours=2))
    for i in (2, 0, 1):
        store.write_run(_run((T0 + i * HOUR).astimezone(plus_two), value=0.01 * (i + 1)))
    runs = store.runs("m")
    assert [r.window_start for r in runs] == [T0, T0 + HOUR, T0 + 2 * HOUR]
    assert all(r.window_start.tzinfo is UTC for r in runs)
    series = stored_scores(store, "m", "kl", T0 + HOUR, T0 + 3 * HOUR, "y")
    assert [p.window_end for p in series] == [T0 + 2 * HOUR, T0 + 3 * HOUR]
    assert [p.value for p in series] == pytest.approx([0.02, 0.03])
    cells = stored_scores(store, "m", "kl", T0 + HOUR, T0 + 3 * HOUR)
    assert [(c.window_end, c.feature) for c in cells] == [
        (T0 + 2 * HOUR, "x"), (T0 + 2 * HOUR, "y"), (T0 + 3 * HOUR, "x"), (T0 + 3 * HOUR, "y"),
    ]  # fmt: skip


def test_histograms_and_scores_of_a_run(store: ResultsStore) -> None:
    run_id = store.write_run(_run(T0))
    hists = store.run_histograms(run_id)
    assert [(h.feature, h.counts, h.reference_counts) for h in hists] == [
        ("x", (1, 2, 3), (3, 2, 1)), ("y", (1, 2, 3), (3, 2, 1)),
    ]  # fmt: skip
    assert hists[0].contributions == (0.1, 0.0, -0.05)
    assert [(s.feature, s.metric, s.value_corrected) for s in store.run_scores(run_id)] == [
        ("x", "kl", 0.005), ("y", "kl", 0.005),
    ]  # fmt: skip


def test_nan_and_infinite_values_are_stored_as_null(store: ResultsStore) -> None:
    record = replace(_run(T0), scores=(_score("x", float("inf")), _score("y", float("nan"))))
    run_id = store.write_run(record)
    assert [s.value for s in store.run_scores(run_id)] == [None, None]


def test_overview_shows_the_latest_window_and_open_alerts(store: ResultsStore) -> None:
    store.save_monitor("m", {"name": "m"})
    store.save_monitor("quiet", {"name": "quiet"})
    store.write_run(_run(T0))
    last = store.write_run(_run(T0 + HOUR, status="insufficient_data"))
    _open(store, "x", last)
    overview = {m.name: m for m in store.monitors_overview()}
    assert overview["m"].last_window_end == T0 + 2 * HOUR
    assert overview["m"].last_status == "insufficient_data"
    assert overview["m"].open_alerts == 1
    assert overview["quiet"].last_status is None and overview["quiet"].open_alerts == 0
    assert store.monitors_overview("m") == [overview["m"]]
    assert store.monitors_overview("nope") == []


def test_baseline_versions_and_the_one_in_force(store: ResultsStore) -> None:
    def record(counts: tuple[int, ...]) -> BaselineRecord:
        return BaselineRecord(
            monitor="m", feature="x", kind="numeric",
            binning_spec={"kind": "numeric", "cuts": [1.0]},
            labels=("(-inf, 1)", "[1, inf]"), counts=counts, missing=0,
            reference_start=T0, reference_end=T0 + HOUR,
        )  # fmt: skip

    assert store.baseline_in_force("m") == []
    assert store.save_baseline("m", [record((1, 2))]) == 1
    assert store.save_baseline("m", [record((3, 4))]) == 2
    (found,) = store.baseline_in_force("m")
    assert (found.version, found.counts, found.reference_start) == (2, (3, 4), T0)


def _open(store: ResultsStore, feature: str, run_id: int) -> int | None:
    return store.apply_alert_change(
        AlertChange("m", feature, "open", "warn", run_id, "drift", expect_severity=None,
                    notifications=(OutgoingNotification("open:0", "log://", "t", "b"),))
    )  # fmt: skip


def test_one_open_alert_per_feature_and_its_notifications_recorded_once(
    store: ResultsStore,
) -> None:
    first = _open(store, "x", 1)
    assert first is not None
    assert _open(store, "x", 2) is None  # stale: an alert is already open
    escalate = AlertChange("m", "x", "escalate", "critical", 2, "worse", expect_severity="warn")
    assert store.apply_alert_change(escalate) == first
    (alert,) = store.open_alerts("m")
    assert (alert.severity, alert.opened_run_id, alert.last_run_id) == ("critical", 1, 2)
    (note,) = store.pending_notifications("m")
    assert note.key == f"{first}:open:0"
    assert store.claim_notification(note.key) is True
    assert store.claim_notification(note.key) is False
    store.mark_notification_sent(note.key)
    assert store.pending_notifications("m") == []
    resolve = AlertChange("m", "x", "resolve", "ok", 3, "clean", expect_severity="critical")
    store.apply_alert_change(resolve)
    assert store.open_alerts() == []
    assert _open(store, "x", 4) not in (None, first)


def test_prune_keeps_recent_runs_open_alerts_and_baselines(store: ResultsStore) -> None:
    old = [store.write_run(_run(T0 + i * HOUR)) for i in range(3)]
    recent = store.write_run(_run(T0 + timedelta(days=100)))
    _open(store, "x", old[1])
    store.save_baseline("m", [BaselineRecord("m", "x", "numeric", {}, ("a",), (1,), 0, None, None)])
    deleted = store.prune(timedelta(days=90), now=T0 + timedelta(days=100))
    assert deleted == 2
    assert [r.id for r in store.runs("m")] == [old[1], recent]
    assert _count(store, t.score) == 4 and _count(store, t.histogram) == 4
    assert len(store.baseline_in_force("m")) == 1


def test_a_database_without_tables_names_the_fix(db_url: str) -> None:
    store = ResultsStore(db_url)
    with pytest.raises(StoreError, match="drift db upgrade"):
        store.runs("m")
    store.close()


def _baseline(counts: tuple[int, ...], cuts: tuple[float, ...] = (1.0,)) -> BaselineRecord:
    return BaselineRecord(
        monitor="m", feature="x", kind="numeric", binning_spec={"cuts": list(cuts)},
        labels=("lo", "hi"), counts=counts, missing=0,
        reference_start=T0.astimezone(timezone(timedelta(hours=-5))), reference_end=T0 + HOUR,
    )  # fmt: skip


def test_saving_the_same_baseline_again_keeps_its_version(store: ResultsStore) -> None:
    assert store.save_baseline("m", [_baseline((1, 2))]) == 1
    assert store.save_baseline("m", [_baseline((1, 2))]) == 1
    assert _count(store, t.baseline) == 1


def test_new_counts_or_a_new_binning_make_a_new_baseline_version(store: ResultsStore) -> None:
    store.save_baseline("m", [_baseline((1, 2))])
    assert store.save_baseline("m", [_baseline((5, 2))]) == 2
    assert store.save_baseline("m", [_baseline((5, 2), cuts=(2.0,))]) == 3
    (found,) = store.baseline_in_force("m")
    assert (found.version, found.counts, found.binning_spec) == (3, (5, 2), {"cuts": [2.0]})
    assert found.reference_start == T0 and found.reference_start.tzinfo is UTC


def test_a_crash_after_the_scores_leaves_the_previous_run(
    store: ResultsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = store.write_run(_run(T0, value=0.01))

    def crash(*_args: object) -> None:
        raise RuntimeError("worker killed between scores and histograms")

    monkeypatch.setattr(ResultsStore, "_insert_histograms", crash)
    with pytest.raises(RuntimeError, match="worker killed"):
        store.write_run(_run(T0, value=0.99, features=("x", "y", "z")))
    monkeypatch.undo()
    assert [s.value for s in store.run_scores(run_id)] == [0.01, 0.01]
    assert [h.feature for h in store.run_histograms(run_id)] == ["x", "y"]
    assert (_count(store, t.run), _count(store, t.score), _count(store, t.histogram)) == (1, 2, 2)


def test_racing_writers_leave_one_writers_scores(store: ResultsStore, db_url: str) -> None:
    stores = [store] + [
        ResultsStore(db_url) if not db_url.startswith("duckdb") else store for _ in range(3)
    ]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def write(s: ResultsStore, value: float) -> None:
        try:
            barrier.wait()
            s.write_run(_run(T0, value=value, features=("a", "b", "c")))
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(s, 0.1 * (i + 1))) for i, s in enumerate(stores)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    (run,) = store.runs("m")
    values = {s.value for s in store.run_scores(run.id)}
    assert len(values) == 1 and _count(store, t.score) == 3 and _count(store, t.histogram) == 3
    for other in {id(s): s for s in stores[1:] if s is not store}.values():
        other.close()


def test_a_run_status_outside_the_three_is_refused(store: ResultsStore) -> None:
    with pytest.raises(ValueError, match="`status` must be one of ok, insufficient_data, error"):
        store.write_run(_run(T0, status="done"))


def test_overview_by_hand(store: ResultsStore) -> None:
    digest = store.save_monitor("m", {"b": 1, "a": [1, 2]})
    assert digest == hashlib.sha256(b'{"a":[1,2],"b":1}').hexdigest()
    first = store.write_run(_run(T0 + 2 * HOUR))
    store.write_run(_run(T0))
    (status,) = store.monitors_overview()
    assert (status.name, status.last_run_id, status.last_status) == ("m", first, "ok")
    assert (status.last_window_start, status.last_window_end) == (T0 + 2 * HOUR, T0 + 3 * HOUR)
    assert status.last_window_end is not None and status.last_window_end.tzinfo is UTC


def test_prune_lets_runs_of_resolved_alerts_go(store: ResultsStore) -> None:
    old = store.write_run(_run(T0))
    open_alert(store, "m", "x", old)
    assert store.prune(timedelta(days=1), now=T0 + timedelta(days=5)) == 0
    resolve_alert(store, "m", "x", old)
    assert store.prune(timedelta(days=1), now=T0 + timedelta(days=5)) == 1
    assert (_count(store, t.run), _count(store, t.score), _count(store, t.histogram)) == (0, 0, 0)
    assert len(store.alerts("m")) == 1


def test_a_database_behind_the_latest_schema_names_the_fix(db_url: str) -> None:
    upgrade(db_url)
    downgrade(db_url, "base")
    store = ResultsStore(db_url)
    with pytest.raises(StoreError, match=r"not at the latest schema .*run `drift db upgrade"):
        store.monitors_overview()
    store.close()


def test_errors_never_show_the_password(db_url: str, backend: str) -> None:
    if backend not in ("postgresql", "mariadb"):
        pytest.skip("file databases have no password")
    url = sa.make_url(db_url).set(password="s3cret-pw")
    store = ResultsStore(url)
    assert "s3cret" not in repr(store)
    with pytest.raises(StoreError) as caught:
        store.runs("m")
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)
    store.close()


def test_times_keep_their_microseconds_on_every_backend(store: ResultsStore) -> None:
    """MariaDB's plain DATETIME drops them: its columns are DATETIME(6) since revision 0002."""
    started = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    finished = started + timedelta(microseconds=654321)
    store.write_run(
        RunRecord(
            monitor="m", window_start=datetime(2024, 5, 1, tzinfo=UTC),
            window_end=datetime(2024, 5, 2, tzinfo=UTC), status="ok", error=None,
            started_at=started, finished_at=finished, duration_seconds=0.654321,
            airflow_run_id=None,
        )
    )  # fmt: skip
    (run,) = store.runs("m")
    assert (run.started_at, run.finished_at) == (started, finished)
