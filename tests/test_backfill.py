"""Backfill in one pass stores exactly what running each window alone stores."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

import drift.run.backfilling
from drift.config import MonitorConfig, parse_monitor
from drift.config.windows import windows_between
from drift.errors import SourceError
from drift.run import WindowResult, backfill, run_window
from drift.sources import SqlSource
from drift.store import ResultsStore, upgrade

pytestmark = pytest.mark.db

DAY0 = datetime(2024, 3, 1, tzinfo=UTC)
DAYS = 10
SHIFT_DAY = 7
RANGE = (DAY0 + timedelta(days=1), DAY0 + timedelta(days=DAYS))


def _make_events(url: str) -> None:
    """Events every 9 minutes (many on an hour); from SHIFT_DAY on the data move."""
    rng = random.Random(11)
    rows = []
    for i in range(DAYS * 160):
        ts = DAY0 + timedelta(minutes=9 * i)
        shifted = ts >= DAY0 + timedelta(days=SHIFT_DAY)
        countries = ["US", "DE", "FR", "BR", "JP"] if shifted else ["US", "DE", "FR"]
        rows.append(
            {
                "created_at": ts.replace(tzinfo=None),
                "amount": None if i % 40 == 0 else rng.gauss(60 if shifted else 50, 10),
                "qty": rng.choice([1, 2, 2, 3, 5]),
                "country": rng.choice(countries),
                "note": " ".join(rng.choice(["red", "blue", "green", "cat"]) for _ in range(3)),
            }
        )
    engine = sa.create_engine(url)
    table = sa.Table(
        "events",
        sa.MetaData(),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("amount", sa.Double),
        sa.Column("qty", sa.Integer),
        sa.Column("country", sa.String(8)),
        sa.Column("note", sa.Text),
    )
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    engine.dispose()


def _monitor(url: str, name: str, **extra: Any) -> MonitorConfig:
    data: dict[str, Any] = {
        "name": name,
        "source": {"url": url},
        "table": "events",
        "timestamp": "created_at",
        "window": "1d",
        "reference": {"previous_windows": 3},
        "thresholds": {"min_rows": 50},
        "features": [
            {"name": "amount", "kind": "numeric", "bins": 8},
            {"name": "qty", "kind": "numeric", "bins": 3},
            {"name": "country", "kind": "categorical", "top_k": 3},
            {"name": "note", "kind": "text", "top_k": 3},
        ],
        **extra,
    }
    return parse_monitor(data)


CONFIGS = {
    "rolling": {},
    "season": {"reference": {"season": "2d"}},
    "season_not_whole_windows": {"window": "12h", "reference": {"season": "30h"}},
    "fixed": {
        "reference": {"start": DAY0.isoformat(), "end": (DAY0 + timedelta(days=2)).isoformat()}
    },
    "cron": {"window": None, "schedule": "0 0,6,18 * * *", "reference": {"previous_windows": 2}},
    "no_pushdown": {"pushdown": False},
    "segments_and_pairs": {
        "segments": [{"column": "country", "top_k": 2, "min_rows": 20}],
        "pairs": [["amount", "country"], ["amount", "qty"]],
    },
    "fixed_segments": {
        "reference": {"start": DAY0.isoformat(), "end": (DAY0 + timedelta(days=2)).isoformat()},
        "segments": [{"columns": ["country", "qty"], "top_k": 3, "min_rows": 10}],
    },
}


@pytest.fixture
def store(db_url: str) -> ResultsStore:
    upgrade(db_url)
    _make_events(db_url)
    return ResultsStore(db_url)


def _no_window_by_window(*args: Any, **kwargs: Any) -> WindowResult:
    raise AssertionError("the one-pass backfill fell back to window by window")


def _stored(store: ResultsStore, monitor: str) -> list[Any]:
    """Every stored number of the monitor, without ids and times."""
    out = []
    for run in store.runs(monitor):
        scores = sorted(
            (s.feature, s.segment, s.metric, s.value, s.value_corrected, s.p_value, s.p_adjusted,
             s.severity, s.n_current, s.n_reference, s.missing_rate)
            for s in store.run_scores(run.id, segment=None)
        )  # fmt: skip
        hists = sorted(
            (
                h.feature,
                h.segment,
                h.labels,
                h.counts,
                h.reference_counts,
                h.contributions,
                h.missing,
            )
            for h in store.run_histograms(run.id, segment=None)
        )
        out.append(
            (run.window_start, run.window_end, run.status, _anonymous(run.error), scores, hists)
        )
    return out


def _alerts(store: ResultsStore, monitor: str) -> list[Any]:
    return sorted((a.feature, a.severity, a.state) for a in store.alerts(monitor))


def _alone(monitor: MonitorConfig, store: ResultsStore) -> list[WindowResult]:
    results = []
    for lo, hi in windows_between(monitor, *RANGE):
        try:
            results.append(run_window(monitor, lo, hi, store=store, notify=False))
        except SourceError as exc:
            results.append(WindowResult(monitor.name, lo, hi, "error", (), None, str(exc)))
    return results


def _anonymous(text: str | None) -> str | None:
    """Error text without the monitor's name (the two monitors compared differ in name only)."""
    if text is None:
        return None
    return text.replace("'one_pass'", "'m'").replace("'alone'", "'m'")


def _summaries(results: list[WindowResult]) -> list[Any]:
    return [
        replace(r.summary(), run_id=None, monitor="", error=_anonymous(r.error)) for r in results
    ]


@pytest.mark.parametrize("config", list(CONFIGS))
def test_backfill_stores_what_each_window_alone_stores(
    db_url: str, store: ResultsStore, config: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = CONFIGS[config]
    if config != "no_pushdown":
        monkeypatch.setattr(drift.run.backfilling, "run_window", _no_window_by_window)
    one_pass, alone = _monitor(db_url, "one_pass", **extra), _monitor(db_url, "alone", **extra)
    seen: list[WindowResult] = []
    results = backfill(one_pass, *RANGE, store=store, on_window=seen.append)
    expected = _alone(alone, store)
    assert seen == results
    assert _summaries(results) == _summaries(expected)
    assert _stored(store, "one_pass") == _stored(store, "alone")
    assert _alerts(store, "one_pass") == _alerts(store, "alone")
    assert any(r.status == "ok" for r in results)
    stored = {(s.feature, s.segment) for r in results for s in r.scores}
    if "segments" in extra:
        segments = {seg for _, seg in stored if seg}
        assert len(segments) == extra["segments"][0]["top_k"] + 1, segments
        assert {f for f, seg in stored if seg} == {"amount", "qty", "country"} - set(
            extra["segments"][0].get("columns", [extra["segments"][0].get("column")])
        )
    for x, y in extra.get("pairs", []):
        assert (f"{x} \u00d7 {y}", "") in stored
    if config in ("rolling", "fixed"):
        assert {"amount", "country"} <= {f for r in results for f in r.drifted}


def test_windows_without_a_reference_fail_until_a_baseline_can_be_fitted(
    db_url: str, store: ResultsStore
) -> None:
    monitor = _monitor(db_url, "m", reference={"previous_windows": 3})
    results = backfill(monitor, DAY0 - timedelta(days=2), DAY0 + timedelta(days=3), store=store)
    assert [r.status for r in results] == ["error", "error", "error", "ok", "ok"]
    assert "no rows to fit bins on" in (results[0].error or "")
    assert [r.run_id is None for r in results] == [True, True, True, False, False]


def test_a_failing_one_pass_query_falls_back_to_window_by_window(
    db_url: str, store: ResultsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = SqlSource.window_histograms

    def broken_after_two(self: SqlSource, *args: Any, **kwargs: Any) -> Any:
        for i, hists in enumerate(real(self, *args, **kwargs)):
            if i == 5:  # three rolling-reference windows, then two live ones
                raise SourceError("the grouped query failed")
            yield hists

    monkeypatch.setattr(SqlSource, "window_histograms", broken_after_two)
    one_pass, alone = _monitor(db_url, "one_pass"), _monitor(db_url, "alone")
    results = backfill(one_pass, *RANGE, store=store)
    _alone(alone, store)
    assert len(results) == len(list(windows_between(one_pass, *RANGE)))
    assert _stored(store, "one_pass") == _stored(store, "alone")


def test_a_dropped_feature_column_is_an_error_in_every_window_and_the_rest_are_measured(
    db_url: str, store: ResultsStore
) -> None:
    features = [
        {"name": "amount", "kind": "numeric"},
        {"name": "gone", "kind": "numeric"},
    ]
    one_pass = _monitor(db_url, "one_pass", features=features)
    alone = _monitor(db_url, "alone", features=features)
    results = backfill(one_pass, *RANGE, store=store)
    _alone(alone, store)
    assert {r.status for r in results} == {"error"}
    assert all("gone: column not found" in (r.error or "") for r in results)
    assert all([s.feature for s in r.scores] == ["amount"] for r in results)
    assert _stored(store, "one_pass") == _stored(store, "alone")
