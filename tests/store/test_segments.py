"""Segments in the results store: written and read per segment, never mixed into a feature."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from drift.alerts.types import AlertChange, OutgoingNotification
from drift.store import ResultsStore
from drift.store import tables as t
from drift.store.records import BaselineRecord, HistogramRecord, RunRecord, ScoreRecord

pytestmark = pytest.mark.db

T0 = datetime(2024, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)
BR, OTHER, US = "country=BR", "country=<other>", "country=US"


def _score(feature: str, segment: str, value: float, severity: str = "ok", n: int = 100,
           metric: str = "kl") -> ScoreRecord:  # fmt: skip
    return ScoreRecord(
        feature=feature, metric=metric, value=value * 1.5, value_corrected=value,
        p_value=0.01, p_adjusted=0.02, n_current=n, n_reference=10 * n, missing_rate=0.0,
        severity=severity, warn_threshold=0.05, critical_threshold=0.2, smoothing="lidstone",
        alpha=0.5, segment=segment,
    )  # fmt: skip


def _hist(feature: str, segment: str, counts: tuple[int, ...]) -> HistogramRecord:
    return HistogramRecord(
        feature=feature, labels=("a", "b"), counts=counts, missing=0,
        reference_counts=(5, 5), contributions=(0.1, -0.02), segment=segment,
    )  # fmt: skip


def _run(day: int, cells: dict[tuple[str, str], tuple[float, str]]) -> RunRecord:
    """A daily run with ``(feature, segment) -> (headline KL, severity)``; sizes by segment."""
    sizes = {"": 1000, US: 500, BR: 100, OTHER: 400}
    start = T0 + day * DAY
    return RunRecord(
        monitor="m", window_start=start, window_end=start + DAY, status="ok", error=None,
        started_at=start, finished_at=start, duration_seconds=0.1, airflow_run_id=None,
        scores=tuple(_score(f, s, v, sev, sizes[s]) for (f, s), (v, sev) in cells.items()),
        histograms=tuple(_hist(f, s, (sizes[s], day)) for (f, s) in cells),
    )  # fmt: skip


#: amount drifts in BR only; the whole population stays ok.
CELLS = {
    ("amount", ""): (0.01, "ok"), ("amount", BR): (0.3, "critical"),
    ("amount", US): (0.02, "ok"), ("amount", OTHER): (0.03, "ok"),
    ("score", ""): (0.04, "ok"), ("score", BR): (0.06, "warn"),
    ("score", US): (0.01, "ok"), ("score", OTHER): (0.02, "ok"),
}  # fmt: skip


def test_whole_population_reads_never_mix_in_segments(store: ResultsStore) -> None:
    run_id = store.write_run(_run(0, CELLS))
    whole = store.run_scores(run_id)
    assert [(s.feature, s.segment, s.value_corrected) for s in whole] == [
        ("amount", "", 0.01), ("score", "", 0.04),
    ]  # fmt: skip
    assert [s.segment for s in store.run_scores(run_id, BR)] == [BR, BR]
    assert len(store.run_scores(run_id, None)) == 8
    assert [(h.feature, h.counts) for h in store.run_histograms(run_id, BR)] == [
        ("amount", (100, 0)), ("score", (100, 0)),
    ]  # fmt: skip
    assert [h.segment for h in store.run_histograms(run_id)] == ["", ""]
    assert len(store.run_histograms(run_id, None)) == 8
    # The heatmap, a feature's series, the strip and the sparkline are the whole population's.
    grid = store.heatmap_grid("m", "kl", T0, T0 + 2 * DAY)
    assert grid.names == ("amount", "score") and grid.values == ((0.01,), (0.04,))
    assert store.heatmap_grid("m", "kl", T0, T0 + 2 * DAY, segment=BR).values == ((0.3,), (0.06,))
    series = store.feature_series("m", "amount", T0, T0 + 2 * DAY)
    assert series.names == ("kl",) and series.values == ((0.01,),)
    assert store.feature_series("m", "amount", T0, T0 + 2 * DAY, segment=BR).values == ((0.3,),)
    strip = store.severity_strip("m")
    assert strip.severities == (("ok",), ("ok",)) and strip.values == ((0.01,), (0.04,))
    assert [v for _, _, v in store.sparkline("m")] == [0.04]
    # A run's worst severity is over everything it judged, segments included.
    (latest,) = store.latest_runs("m", T0, T0 + 2 * DAY)
    assert latest["severity"] == "critical"


def test_the_segment_by_feature_table_of_a_run(store: ResultsStore) -> None:
    run_id = store.write_run(_run(0, CELLS))
    assert store.run_segments(run_id) == ["", US, BR, OTHER]  # largest first, the rest last
    table = store.segment_table(run_id)
    assert table.segments == ("", US, BR, OTHER) and table.features == ("amount", "score")
    assert table.values[2] == (0.3, 0.06) and table.severities[2] == ("critical", "warn")
    assert table.values[0] == (0.01, 0.04) and table.severities[0] == ("ok", "ok")
    assert table.n_current[2] == (100, 100) and table.n_reference[1] == (5000, 5000)
    # A monitor without segments has one row, the whole population's.
    plain = store.write_run(_run(1, {("amount", ""): (0.01, "ok")}))
    assert store.run_segments(plain) == [""]
    assert store.segment_table(plain).segments == ("",)
    assert store.segment_table(plain, "js").segments == ()


def test_a_features_history_per_segment(store: ResultsStore) -> None:
    for day, br in enumerate((0.01, 0.2, 0.4)):
        store.write_run(_run(day, {("amount", ""): (0.01, "ok"), ("amount", BR): (br, "ok")}))
    history = store.segment_series("m", "amount", "kl", T0, T0 + 4 * DAY)
    assert history.names == ("", BR)
    assert history.values == ((0.01, 0.01, 0.01), (0.01, 0.2, 0.4))
    assert all(r is not None for row in history.run_ids for r in row)


def test_a_rerun_replaces_every_segment_and_prune_takes_them(store: ResultsStore) -> None:
    run_id = store.write_run(_run(0, CELLS))
    again = store.write_run(_run(0, {("amount", ""): (0.02, "ok"), ("amount", US): (0.5, "warn")}))
    assert again == run_id
    assert [(s.segment, s.value_corrected) for s in store.run_scores(run_id, None)] == [
        ("", 0.02), (US, 0.5),
    ]  # fmt: skip
    assert store.run_segments(run_id) == ["", US]
    assert store.prune(timedelta(days=1), now=T0 + 10 * DAY) == 1
    with store.engine.connect() as conn:
        left = [conn.execute(sa.select(sa.func.count()).select_from(x)).scalar_one()
                for x in (t.score, t.histogram, t.run)]  # fmt: skip
    assert left == [0, 0, 0]


def _baseline(feature: str, segment: str, counts: tuple[int, ...]) -> BaselineRecord:
    return BaselineRecord(
        monitor="m", feature=feature, kind="categorical",
        binning_spec={"kind": "categorical", "categories": ["a"]}, labels=("a", "<other>"),
        counts=counts, missing=0, reference_start=T0 - 7 * DAY, reference_end=T0,
        segment=segment,
    )  # fmt: skip


def test_baselines_per_segment(store: ResultsStore) -> None:
    records = [_baseline("amount", "", (60, 40)), _baseline("amount", BR, (5, 5)),
               _baseline("amount", US, (30, 20))]  # fmt: skip
    assert store.save_baseline("m", records) == 1
    assert store.save_baseline("m", list(reversed(records))) == 1  # the same: no new version
    assert [(b.segment, b.counts) for b in store.baseline_in_force("m")] == [("", (60, 40))]
    assert [b.counts for b in store.baseline_in_force("m", BR)] == [(5, 5)]
    assert [b.segment for b in store.baseline_in_force("m", None)] == ["", BR, US]
    # A segment's counts changing, or a segment going, is a new version.
    changed = [records[0], replace(records[1], counts=(6, 4)), records[2]]
    assert store.save_baseline("m", changed) == 2
    assert store.save_baseline("m", changed[:2]) == 3
    assert [b.segment for b in store.baseline_in_force("m", None)] == ["", BR]


def _change(segment: str, event: str, severity: str, run_id: int, expect: str | None,
            feature: str = "amount", monitor: str = "m") -> AlertChange:  # fmt: skip
    key = f"{event}:{severity}:0" + (f":{segment}" if segment else "")  # as alerts key them
    note = OutgoingNotification(key, "apprise[0]", "t", "b")
    return AlertChange(monitor, feature, event, severity, run_id, f"{feature} {segment}",
                       expect, (note,), segment=segment)  # fmt: skip


def test_an_incident_per_feature_and_segment(store: ResultsStore) -> None:
    first = store.write_run(_run(0, CELLS))
    second = store.write_run(_run(1, CELLS))
    br = store.apply_alert_change(_change(BR, "open", "critical", first, None))
    whole = store.apply_alert_change(_change("", "open", "warn", first, None))
    assert br is not None and whole is not None and br != whole
    assert store.apply_alert_change(_change(BR, "open", "warn", first, None)) is None  # one open
    assert {(a.feature, a.segment, a.severity) for a in store.open_alerts("m")} == {
        ("amount", BR, "critical"), ("amount", "", "warn"),
    }  # fmt: skip
    # Resolving BR's incident leaves the whole population's open; each has its own watermark.
    assert store.apply_alert_change(_change(BR, "resolve", "ok", second, "critical")) == br
    assert [(a.segment, a.severity) for a in store.open_alerts("m")] == [("", "warn")]
    assert store.alert_watermark("m", "amount", BR) == T0 + 2 * DAY
    assert store.alert_watermark("m", "amount") == T0 + DAY
    assert store.alert_watermark("m", "amount", US) is None
    # History per segment: BR's severities are BR's only.
    assert store.recent_severities("m", "amount", "kl", T0 + 5 * DAY, 5, segment=BR) == [
        "critical", "critical",
    ]  # fmt: skip
    recent = store.recent_scores("m", "amount", "kl", T0 + 5 * DAY, 5, corrected=True)
    assert [(r.severity, r.value) for r in recent] == [("ok", 0.01), ("ok", 0.01)]
    assert [a.segment for a in store.run_alerts(second).alerts] == [BR]


def test_the_longest_names_still_get_one_open_alert_each(store: ResultsStore) -> None:
    monitor, feature = "m" * 200, "f" * 200
    run_id = store.write_run(replace(_run(0, {}), monitor=monitor))
    segments = ["s" * 199 + "1", "s" * 199 + "2", ""]
    ids = {store.apply_alert_change(_change(s, "open", "warn", run_id, None, feature, monitor))
           for s in segments}  # fmt: skip
    assert None not in ids and len(ids) == 3
    assert store.apply_alert_change(_change(segments[0], "open", "warn", run_id, None, feature,
                                            monitor)) is None  # fmt: skip
    assert sorted(a.segment for a in store.open_alerts(monitor)) == sorted(segments)
    assert len({n.key for n in store.notifications(monitor)}) == 3  # each key fits its column


def test_an_acknowledgement_covers_the_features_other_open_segments(store: ResultsStore) -> None:
    run_id = store.write_run(_run(0, CELLS))
    br = store.apply_alert_change(_change(BR, "open", "critical", run_id, None))
    us = store.apply_alert_change(_change(US, "open", "warn", run_id, None))
    other = store.apply_alert_change(_change(BR, "open", "warn", run_id, None, "score"))
    assert br is not None and us is not None and other is not None
    store.acknowledge(us, actor="bob", note="mine", now=T0)
    row = store.acknowledge(br, actor="alice", note="launch in Brazil", now=T0 + DAY)
    assert row.alert_id == br and len(store.actions("m")) == 2
    by = {(a.feature, a.segment): a.acknowledged_by for a in store.open_alerts("m")}
    # US was bob's already; score is another feature.
    assert by == {("amount", BR): "alice", ("amount", US): "bob", ("score", BR): None}


def test_accepting_a_features_baseline_resolves_all_its_segments(store: ResultsStore) -> None:
    run_id = store.write_run(_run(0, CELLS))
    for segment in ("", BR):
        store.apply_alert_change(_change(segment, "open", "warn", run_id, None))
    store.apply_alert_change(_change(BR, "open", "warn", run_id, None, "score"))
    store.accept_baseline("m", feature="amount", start=T0, end=T0 + DAY, actor="a", note="ok")
    assert [(a.feature, a.segment) for a in store.open_alerts("m")] == [("score", BR)]
