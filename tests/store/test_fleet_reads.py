"""The store at fleet size (issue 18): the latest-run status per monitor, batched prune."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from stored import open_alert, resolve_alert

from drift.store import ResultsStore
from drift.store import tables as t
from drift.store.records import HistogramRecord, RunRecord, ScoreRecord

pytestmark = pytest.mark.db

T0 = datetime(2024, 6, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _run(monitor: str, start: datetime, end: datetime, status: str = "ok") -> RunRecord:
    score = ScoreRecord(
        feature="x", metric="kl", value=0.1, value_corrected=0.05, p_value=0.5, p_adjusted=0.5,
        n_current=10, n_reference=10, missing_rate=0.0, severity="ok", warn_threshold=None,
        critical_threshold=None, smoothing="lidstone", alpha=0.5,
    )  # fmt: skip
    histogram = HistogramRecord(
        feature="x", labels=("a",), counts=(1,), missing=0, reference_counts=(1,),
        contributions=(0.0,),
    )  # fmt: skip
    return RunRecord(
        monitor=monitor, window_start=start, window_end=end, status=status,
        error="boom" if status == "error" else None, started_at=None, finished_at=None,
        duration_seconds=None, airflow_run_id=None,
        scores=() if status == "error" else (score,),
        histograms=() if status == "error" else (histogram,),
    )  # fmt: skip


def test_the_latest_run_of_a_tie_on_window_end_is_the_later_start(store: ResultsStore) -> None:
    store.save_monitor("m", {"name": "m"})
    store.write_run(_run("m", T0, T0 + 2 * HOUR))
    later = store.write_run(_run("m", T0 + HOUR, T0 + 2 * HOUR))
    store.write_run(_run("m", T0 - HOUR, T0))
    (status,) = store.monitors_overview()
    assert (status.last_run_id, status.last_window_start) == (later, T0 + HOUR)


def test_a_monitor_with_no_runs_and_one_with_only_errors(store: ResultsStore) -> None:
    for name in ("empty", "failing", "fine"):
        store.save_monitor(name, {"name": name})
    store.write_run(_run("failing", T0, T0 + HOUR, status="error"))
    last_error = store.write_run(_run("failing", T0 + HOUR, T0 + 2 * HOUR, status="error"))
    fine = store.write_run(_run("fine", T0, T0 + HOUR))
    got = {
        m.name: (m.last_run_id, m.last_status, m.last_window_end) for m in store.monitors_overview()
    }
    assert got == {
        "empty": (None, None, None),
        "failing": (last_error, "error", T0 + 2 * HOUR),
        "fine": (fine, "ok", T0 + HOUR),
    }


def test_the_latest_run_up_to_a_time_skips_later_windows(store: ResultsStore) -> None:
    store.save_monitor("m", {"name": "m"})
    kept = store.write_run(_run("m", T0, T0 + HOUR))
    store.write_run(_run("m", T0 + HOUR, T0 + 2 * HOUR))
    (status,) = store.monitors_overview(until=T0 + HOUR + timedelta(minutes=30))
    assert status.last_run_id == kept
    (before_any,) = store.monitors_overview(until=T0)
    assert (before_any.last_run_id, before_any.last_status) == (None, None)


def _remaining(store: ResultsStore) -> tuple[set[int], int, int]:
    with store.engine.connect() as conn:
        runs = {int(x) for x in conn.execute(sa.select(t.run.c.id)).scalars()}
        scores = conn.execute(sa.select(sa.func.count()).select_from(t.score)).scalar_one()
        hists = conn.execute(sa.select(sa.func.count()).select_from(t.histogram)).scalar_one()
    return runs, int(scores), int(hists)


@pytest.mark.parametrize("batch", [1, 3, 200])
def test_batched_prune_deletes_exactly_the_due_runs_not_held(
    store: ResultsStore, batch: int
) -> None:
    ids: dict[tuple[str, int], int] = {}
    for monitor in ("a", "b", "c"):
        for hour in range(10):
            ids[monitor, hour] = store.write_run(
                _run(monitor, T0 + hour * HOUR, T0 + (hour + 1) * HOUR)
            )
    open_alert(store, "a", "x", ids["a", 2])
    open_alert(store, "b", "x", ids["b", 0])
    open_alert(store, "b", "x", ids["b", 1])  # the same alert, last seen in a later run
    open_alert(store, "c", "x", ids["c", 3])
    resolve_alert(store, "c", "x", ids["c", 4])
    now = T0 + 6 * HOUR + timedelta(days=1)  # windows ending before T0 + 6h are due
    due = {i for (_, hour), i in ids.items() if hour + 1 < 6}
    held = {ids["a", 2], ids["b", 0], ids["b", 1]}
    deleted = store.prune(timedelta(days=1), now=now, batch=batch)
    runs, scores, hists = _remaining(store)
    assert deleted == len(due - held)
    assert runs == set(ids.values()) - (due - held)
    assert scores == hists == len(runs)
    assert len(store.alerts("c")) == 1
    assert store.prune(timedelta(days=1), now=now, batch=batch) == 0


def test_prune_needs_a_positive_batch(store: ResultsStore) -> None:
    with pytest.raises(ValueError, match="`batch` must be a positive"):
        store.prune(timedelta(days=1), batch=0)


def test_the_severity_strip_holds_the_latest_runs_only(store: ResultsStore) -> None:
    store.write_run(_run("m", T0, T0 + HOUR))
    second = store.write_run(_run("m", T0 + HOUR, T0 + 2 * HOUR))
    store.write_run(_run("m", T0 + 2 * HOUR, T0 + 3 * HOUR, status="error"))
    store.write_run(_run("other", T0 + 5 * HOUR, T0 + 6 * HOUR))
    strip = store.severity_strip("m", windows=2)
    assert strip.names == ("x",)
    assert strip.ends == (T0 + 2 * HOUR,)  # the error run has no scores to show
    assert strip.run_ids == ((second,),) and strip.severities == (("ok",),)
    assert store.severity_strip("nobody").names == ()


@pytest.mark.parametrize("windows", [3, 30, 35])
def test_the_sparkline_is_the_latest_points_windows_whatever_the_history(
    store: ResultsStore, windows: int
) -> None:
    """The bounded read gives what grouping every window would (fewer, as many, more)."""
    store.save_monitor("m", {"name": "m"})
    store.save_monitor("other", {"name": "other"})
    for i in range(windows):
        start = T0 + i * HOUR
        store.write_run(_run("m", start, start + HOUR))
    store.write_run(_run("other", T0 + 99 * HOUR, T0 + 100 * HOUR))  # never in m's line
    got = store.sparkline("m", points=30)
    kept = range(max(0, windows - 30), windows)
    assert [(a, e) for a, e, _ in got] == [(T0 + i * HOUR, T0 + (i + 1) * HOUR) for i in kept]
    assert all(v == pytest.approx(0.05) for _, _, v in got)  # the corrected value, the headline
    assert store.sparkline("nobody") == []
