"""Values outside the reference range, as reported: summary, alert line, `drift run` JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from drift.alerts.messages import alert_message
from drift.alerts.types import FeatureSummary, WindowSummary
from drift.config import parse_monitor
from drift.run import backfill, run_window
from drift.run.records import feature_summary
from drift.sources.demo_data import make_demo_source
from drift.stats.counting import histogram
from drift.stats.fitting import fit_numeric
from drift.stats.scoring import score_feature
from drift.store import ResultsStore, upgrade

DAY0 = datetime(2024, 3, 1, tzinfo=UTC)


def _summary(**extra: object) -> FeatureSummary:
    base: dict[str, object] = {
        "feature": "amount", "kind": "numeric", "severity": "warn", "drifted": True,
        "enough_data": True, "metrics": {"kl": 0.1, "kl_corrected": 0.09}, "p_value": 1e-9,
        "p_adjusted": 1e-9, "n_current": 1000, "n_reference": 5000, "missing_rate": 0.0,
    }  # fmt: skip
    return FeatureSummary(**{**base, **extra})  # type: ignore[arg-type]


def _window(feature: FeatureSummary) -> WindowSummary:
    return WindowSummary(
        "m", DAY0, DAY0 + timedelta(days=1), "ok", 7, None, ("amount",), "warn", (feature,)
    )


def test_the_alert_names_the_values_outside_the_reference_range() -> None:
    feature = _summary(reference_min=3.1, reference_max=97.4, below_range=80, above_range=45)
    assert feature.outside_range == 0.125
    _, body = alert_message("open", "warn", _window(feature), feature, {"warn": 0.05})
    line = "12.5% of live values outside the reference range [3.1, 97.4]: 80 below, 45 above"
    assert line in body


def test_no_line_without_values_outside_or_without_a_range() -> None:
    for feature in (
        _summary(reference_min=3.1, reference_max=97.4),
        _summary(),
    ):
        _, body = alert_message("open", "warn", _window(feature), feature, {"warn": 0.05})
        assert "outside the reference range" not in body
    assert _summary().outside_range is None
    assert _summary(reference_min=0.0, reference_max=1.0).outside_range == 0.0


def test_the_summary_round_trips_and_old_summaries_load() -> None:
    feature = _summary(reference_min=-2.0, reference_max=5.5, below_range=3, above_range=0)
    data = json.loads(json.dumps(feature.to_dict()))
    assert data["outside_range"] == 0.003 and data["below_range"] == 3
    assert FeatureSummary.from_dict(data) == feature
    old = {k: v for k, v in data.items() if k not in ("reference_min", "reference_max",
           "below_range", "above_range", "outside_range")}  # fmt: skip
    loaded = FeatureSummary.from_dict(old)
    assert loaded.outside_range is None and loaded.below_range == 0


def test_the_score_summary_carries_the_live_counts_and_changes_no_verdict() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(size=5000)
    binning = fit_numeric(reference)
    live = np.concatenate([rng.normal(size=990), [50.0] * 6, [-50.0] * 4])
    ref, cur = histogram(binning, reference), histogram(binning, live)
    score = score_feature(ref, cur, feature="x", kind="numeric")
    summary = feature_summary(score)
    assert (summary.below_range, summary.above_range) == (4, 6)
    assert summary.outside_range == 0.01
    assert (summary.reference_min, summary.reference_max) == binning.value_range
    blind = score_feature(
        histogram(type(binning)(binning.cuts), reference),
        histogram(type(binning)(binning.cuts), live),
        feature="x",
        kind="numeric",
    )
    assert (blind.drifted, blind.severity, blind.p_value) == (
        score.drifted, score.severity, score.p_value,
    )  # fmt: skip
    assert feature_summary(blind).outside_range is None


def _make_events(url: str) -> None:
    """1 day-long windows of 300 rows; from day 6 on, 10% of amounts jump above the reference."""
    rng = np.random.default_rng(5)
    rows = []
    for day in range(9):
        for i in range(300):
            ts = DAY0 + timedelta(days=day, seconds=i * 288)
            amount: float | None = float(rng.integers(40, 61))
            if day >= 6 and i % 10 == 0:
                amount = 500.0 + i
            if i % 50 == 7:
                amount = None
            rows.append({"created_at": ts.replace(tzinfo=None), "amount": amount})
    engine = sa.create_engine(url)
    table = sa.Table(
        "events",
        sa.MetaData(),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("amount", sa.Double),
    )
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    engine.dispose()


@pytest.mark.db
@pytest.mark.parametrize("pushdown", [True, False])
def test_run_and_backfill_report_the_same_counts_on_every_backend(
    db_url: str, pushdown: bool
) -> None:
    upgrade(db_url)
    _make_events(db_url)
    store = ResultsStore(db_url)
    monitor = parse_monitor(
        {
            "name": f"range_{pushdown}",
            "source": {"url": db_url},
            "table": "events",
            "timestamp": "created_at",
            "window": "1d",
            "pushdown": pushdown,
            "reference": {"start": DAY0.isoformat(), "end": (DAY0 + timedelta(days=3)).isoformat()},
            "features": [{"name": "amount", "kind": "numeric", "bins": 8}],
        }
    )
    start, end = DAY0 + timedelta(days=3), DAY0 + timedelta(days=9)
    filled = backfill(monitor, start, end, store=store)
    for result in filled:
        alone = run_window(
            monitor, result.window_start, result.window_end, store=store, notify=False
        )
        assert alone.summary().features == result.summary().features
    by_day = [r.summary().features[0] for r in filled]
    assert [f.above_range for f in by_day] == [0, 0, 0, 30, 30, 30]
    assert all(f.below_range == 0 for f in by_day[3:])
    assert by_day[3].outside_range == pytest.approx(30 / 294)
    assert by_day[0].reference_min is not None and by_day[0].reference_max is not None
    assert (by_day[0].reference_min, by_day[0].reference_max) == (40.0, 60.0)


def test_drift_run_json_carries_the_range(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'src.db'}"
    make_demo_source(source, days=10, shift_day=7, rows_per_day=300)
    monitor = tmp_path / "demo.yaml"
    monitor.write_text(
        "name: demo\nsource: {url_env: DEMO_SOURCE}\ntable: events\ntimestamp: created_at\n"
        "reference: {start: 2024-05-01, end: 2024-05-05}\n"
        "features: [{name: amount}, {name: country}]\n"
    )
    results = f"sqlite:///{tmp_path / 'r.db'}"
    env = {**os.environ, "DEMO_SOURCE": source}
    drift = [sys.executable, "-m", "drift.cli"]
    subprocess.run([*drift, "db", "upgrade", "--results-url", results], cwd=tmp_path, env=env,
                   check=True, capture_output=True)  # fmt: skip
    done = subprocess.run(
        [*drift, "run", str(monitor), "--window-end", "2024-05-09", "--format", "json",
         "--results-url", results],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    features = {f["feature"]: f for f in json.loads(done.stdout)["features"]}
    amount, country = features["amount"], features["country"]
    assert amount["reference_min"] < amount["reference_max"]
    outside = amount["below_range"] + amount["above_range"]
    assert amount["outside_range"] == pytest.approx(outside / amount["n_current"])
    assert country["outside_range"] is None and country["below_range"] == 0
