"""Segments and pairs end to end: a scheduled window finds drift where it lives, on every backend.

The data are shaped like real events: ``amount`` is an AR(1) series in time
(phi 0.7, so neighbouring rows are alike), countries are unequal (BR is 10%
of rows), and on the live day only BR's amounts move by half a standard
deviation; ``x`` and ``y`` keep their marginals while their correlation
flips from +0.8 to -0.8.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from drift.config import MonitorConfig, parse_monitor
from drift.errors import SourceError
from drift.run import Baseline, measure_window, prepare_baseline, run_window
from drift.store import ResultsStore, upgrade

pytestmark = pytest.mark.db

DAY0 = datetime(2024, 5, 1, tzinfo=UTC)
DAYS = 8  # 7 reference days, then the live one
PER_DAY = 3000
COUNTRIES = {"US": 0.30, "DE": 0.20, "FR": 0.15, "BR": 0.10, "JP": 0.10, "IN": 0.08, "GB": 0.07}
LIVE = (DAY0 + timedelta(days=DAYS - 1), DAY0 + timedelta(days=DAYS))


def _events(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n = DAYS * PER_DAY
    noise = rng.normal(size=n)
    amount = np.empty(n)
    amount[0] = noise[0]
    for i in range(1, n):  # AR(1) with unit variance
        amount[i] = 0.7 * amount[i - 1] + np.sqrt(1 - 0.49) * noise[i]
    country = rng.choice(list(COUNTRIES), size=n, p=list(COUNTRIES.values()))
    live = np.arange(n) >= (DAYS - 1) * PER_DAY
    amount = amount + 0.5 * (live & (country == "BR"))
    x = rng.normal(size=n)
    rho = np.where(live, -0.8, 0.8)
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    seconds = np.concatenate(
        [np.sort(rng.uniform(d * 86400, (d + 1) * 86400, PER_DAY)) for d in range(DAYS)]
    )
    return {
        "ts": [(DAY0 + timedelta(seconds=float(s))).replace(tzinfo=None) for s in seconds],
        "amount": amount,
        "country": country,
        "device": rng.choice(["ios", "android", "web"], size=n),
        "x": x,
        "y": y,
    }


def _load(url: str, data: dict[str, Any]) -> None:
    engine = sa.create_engine(url)
    table = sa.Table(
        "events",
        sa.MetaData(),
        sa.Column("ts", sa.DateTime, nullable=False),
        sa.Column("amount", sa.Double),
        sa.Column("country", sa.String(8)),
        sa.Column("device", sa.String(8)),
        sa.Column("x", sa.Double),
        sa.Column("y", sa.Double),
    )
    table.create(engine)
    rows = [
        {"ts": t, "amount": float(a), "country": str(c), "device": str(d), "x": float(x),
         "y": float(y)}
        for t, a, c, d, x, y in zip(*data.values(), strict=True)
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    engine.dispose()


def _monitor(url: str) -> MonitorConfig:
    return parse_monitor(
        {
            "name": "checkout",
            "source": {"url": url},
            "table": "events",
            "timestamp": "ts",
            "window": "1d",
            "reference": {"previous_windows": 7},
            "features": [
                {"name": "amount", "kind": "numeric", "bins": 10},
                {"name": "device", "kind": "categorical"},
                {"name": "x", "kind": "numeric"},
                {"name": "y", "kind": "numeric"},
            ],
            "segments": [{"column": "country", "top_k": 5, "min_rows": 200}],
            "pairs": [["x", "y"]],
        }
    )


@pytest.fixture
def store(db_url: str) -> ResultsStore:
    upgrade(db_url)
    _load(db_url, _events(19))
    return ResultsStore(db_url)


def test_drift_in_one_segment_and_in_a_relationship_is_found_and_named(
    db_url: str, store: ResultsStore
) -> None:
    result = run_window(_monitor(db_url), *LIVE, store=store, notify=False)
    assert result.status == "ok", result.error
    scores = {(s.feature, s.segment): s for s in result.scores}

    # The whole population hardly moves: 10% of rows by half a standard deviation.
    assert scores[("amount", "")].severity == "ok"
    assert not scores[("amount", "")].drifted
    br = scores[("amount", "country=BR")]
    assert br.drifted and br.severity in ("warn", "critical"), br.metrics
    segments = {seg for _, seg in scores if seg}
    assert segments == {
        "country=US", "country=DE", "country=FR", "country=BR", "country=JP", "country=<other>"
    }  # fmt: skip
    flagged = {k for k, s in scores.items() if s.drifted}
    assert flagged == {("amount", "country=BR"), ("x \u00d7 y", "")}, flagged

    # The relationship flipped; neither marginal moved.
    pair = scores[("x \u00d7 y", "")]
    assert pair.kind == "pair" and pair.severity == "critical"
    assert pair.metrics["kl_conditional"] >= 0.9 * pair.metrics["kl"]
    assert (
        abs(pair.metrics["kl_marginal"] + pair.metrics["kl_conditional"] - pair.metrics["kl"])
        < 1e-9
    )
    assert not scores[("x", "")].drifted and not scores[("y", "")].drifted

    # Stored: the segment's rows apart from the whole population's, the pair's split.
    stored = {
        (s.feature, s.segment, s.metric): s
        for s in store.run_scores(result.run_id or 0, segment=None)
    }
    assert stored[("amount", "country=BR", "kl")].severity == br.severity
    assert stored[("amount", "", "kl")].severity == "ok"
    assert stored[("x \u00d7 y", "", "kl_conditional")].value == pytest.approx(
        pair.metrics["kl_conditional"]
    )
    whole = {(s.feature, s.metric) for s in store.run_scores(result.run_id or 0)}
    assert ("amount", "kl") in whole and all(
        seg == "" for seg in [s.segment for s in store.run_scores(result.run_id or 0)]
    )
    # A segment's counts are its rows: BR holds about a tenth of the live day.
    n_br = stored[("amount", "country=BR", "kl")].n_current
    assert 0.07 * PER_DAY < n_br < 0.13 * PER_DAY


def test_segments_report_but_do_not_judge_below_min_rows(db_url: str, store: ResultsStore) -> None:
    monitor = _monitor(db_url)
    small = monitor.model_copy(
        update={"segments": (monitor.segments[0].model_copy(update={"min_rows": 400}),)}
    )
    result = run_window(small, *LIVE, store=store, notify=False)
    by_segment = {s.segment: s for s in result.scores if s.feature == "amount"}
    assert not by_segment["country=BR"].enough_data  # ~300 live rows < 400
    assert not by_segment["country=BR"].drifted
    assert by_segment["country=US"].enough_data
    assert "segments with too few rows, reported, not judged" in (result.error or "")


def test_the_baseline_travels_between_airflow_tasks_with_its_segments_and_pairs(
    db_url: str, store: ResultsStore
) -> None:
    monitor = _monitor(db_url)
    baseline = prepare_baseline(monitor, *LIVE, store=store)
    data = json.loads(json.dumps(baseline.to_dict()))
    assert data["segments"] == sorted(
        ["country=US", "country=DE", "country=FR", "country=BR", "country=JP", "country=<other>"]
    )
    assert data["features"]["x \u00d7 y"]["kind"] == "pair"
    again = Baseline.from_dict(data)
    assert again.records == baseline.records
    assert (
        measure_window(monitor, *LIVE, store=store, baseline=again).scores
        == run_window(monitor, *LIVE, store=store, notify=False).scores
    )


def test_a_segment_column_that_does_not_exist_is_an_error_naming_it(
    db_url: str, store: ResultsStore
) -> None:
    monitor = _monitor(db_url)
    wrong = monitor.model_copy(
        update={"segments": (monitor.segments[0].model_copy(update={"columns": ("market",)}),)}
    )
    with pytest.raises(SourceError, match="market"):
        run_window(wrong, *LIVE, store=store, notify=False)
    [run] = store.runs("checkout")
    assert run.status == "error" and "market" in (run.error or "")
