"""Verdicts on data shaped like real data, through the real pipeline and real databases.

The statistics are simulated in ``tests/stats``; here the same claims are
checked as a user meets them: a monitor over a SQL table, ``drift backfill``
or ``drift run``, and what the store and the alerts then hold.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from scipy.signal import lfilter

from drift.config import parse_monitor
from drift.run import backfill, run_window
from drift.store import ResultsStore, upgrade

DAY0 = datetime(2024, 1, 1, tzinfo=UTC)


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """A stationary AR(1) series with unit marginal variance."""
    noise = rng.normal(0.0, np.sqrt(1 - phi**2), n)
    start = rng.normal()
    return np.asarray(lfilter([1.0], [1.0, -phi], noise, zi=[phi * start])[0])


def _write(url: str, table: str, columns: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    target = sa.Table(table, meta, *(sa.Column(name, kind) for name, kind in columns.items()))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(target.insert(), rows)
    engine.dispose()


@pytest.fixture
def results(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'results.db'}"
    upgrade(url)
    store = ResultsStore(url)
    yield store
    store.close()


def _series_source(tmp_path: Path, values: np.ndarray, per_day: int) -> str:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    step = 86_400 / per_day
    rows = [
        {"ts": (DAY0 + timedelta(seconds=i * step)).replace(tzinfo=None), "x": float(v)}
        for i, v in enumerate(values)
    ]
    _write(url, "series", {"ts": sa.DateTime, "x": sa.Float}, rows)
    return url


@pytest.mark.slow
def test_an_autocorrelated_series_pages_almost_never_through_drift_backfill(
    tmp_path: Path, results: ResultsStore
) -> None:
    # Issue 14 measured 5 pages in 106 unchanged days of this shape before.
    days, per_day = 114, 1000
    values = _ar1(np.random.default_rng(2024), days * per_day, 0.9)
    url = _series_source(tmp_path, values, per_day)
    monitor = parse_monitor(
        {"name": "ar", "source": {"url": url}, "table": "series", "timestamp": "ts"}
    )
    done = backfill(monitor, DAY0 + timedelta(days=8), DAY0 + timedelta(days=days), store=results)
    judged = [r for r in done if r.status == "ok"]
    paged = [r for r in judged if r.max_severity != "ok"]
    drifted = [r for r in judged if r.drifted]
    print(f"AR(1) 0.9 through backfill: {len(drifted)} drifted, {len(paged)} paged "
          f"of {len(judged)} days")  # fmt: skip
    assert len(judged) >= 100
    assert len(paged) <= 0.01 * len(judged) and len(drifted) <= 0.01 * len(judged)
    assert results.open_alerts("ar") == []


def test_an_autocorrelated_series_that_really_moves_is_paged(
    tmp_path: Path, results: ResultsStore
) -> None:
    days, per_day = 12, 1000
    values = _ar1(np.random.default_rng(7), days * per_day, 0.9)
    values[10 * per_day :] += 1.0  # one stationary sd, on the last two days
    url = _series_source(tmp_path, values, per_day)
    monitor = parse_monitor(
        {"name": "ar", "source": {"url": url}, "table": "series", "timestamp": "ts"}
    )
    done = backfill(monitor, DAY0 + timedelta(days=9), DAY0 + timedelta(days=11), store=results)
    (unchanged, shifted) = done
    assert not unchanged.drifted
    assert shifted.drifted == ("x",) and shifted.max_severity != "ok"
    (x,) = shifted.summary().features
    assert x.test in ("quasi_f", "g") and x.n_current == per_day
    assert [a.feature for a in results.open_alerts("ar")] == ["x"]


def test_identifier_columns_are_skipped_and_named_and_never_alert(
    db_url: str, tmp_path: Path, results: ResultsStore
) -> None:
    # The README's smallest monitor over a table with a serial primary key.
    engine = sa.create_engine(db_url)
    meta = sa.MetaData()
    orders = sa.Table(
        "orders",
        meta,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("amount", sa.Float),
        sa.Column("band", sa.String(20)),
    )
    meta.create_all(engine)
    rng = np.random.default_rng(3)
    bands = ["0 - 20K €", "20K - 40K €", "40K - 60K €", "60K+ €"]
    with engine.begin() as conn:
        conn.execute(
            orders.insert(),
            [
                {
                    "id": i + 1,  # as a serial would give them (DuckDB has no serial)
                    "created_at": (DAY0 + timedelta(minutes=10 * i)).replace(tzinfo=None),
                    "amount": float(rng.normal(50, 10)),
                    "band": bands[int(rng.integers(0, 4))],
                }
                for i in range(9 * 144)
            ],
        )
    engine.dispose()
    monitor = parse_monitor(
        {"name": "orders", "source": {"url": db_url}, "table": "orders", "timestamp": "created_at"}
    )
    result = run_window(monitor, DAY0 + timedelta(days=8), DAY0 + timedelta(days=9), store=results)
    kinds = {s.feature: s.kind for s in result.scores}
    assert kinds == {"amount": "numeric", "band": "categorical"}
    assert result.status == "ok" and result.error is not None
    # Skipped as a primary key where the dialect reflects one, else as increasing integers.
    assert "columns skipped: id (" in result.error and "(an identifier))" in result.error
    assert results.open_alerts("orders") == []


def test_the_stored_thresholds_are_the_features_own(tmp_path: Path, results: ResultsStore) -> None:
    values = np.random.default_rng(5).normal(size=9 * 200)
    url = _series_source(tmp_path, values, 200)
    monitor = parse_monitor(
        {
            "name": "th", "source": {"url": url}, "table": "series", "timestamp": "ts",
            "features": [{"name": "x", "thresholds": {"warn": 0.11, "critical": 0.33}}],
        }
    )  # fmt: skip
    result = run_window(monitor, DAY0 + timedelta(days=8), DAY0 + timedelta(days=9), store=results)
    (kl,) = [s for s in results.run_scores(result.run_id or 0) if s.metric == "kl"]
    assert (kl.warn_threshold, kl.critical_threshold) == (0.11, 0.33)
    (x,) = result.summary().features
    assert (x.warn_threshold, x.critical_threshold) == (0.11, 0.33)


def _daily_table(url: str, table: str, frame: Any, column: str, when: str) -> None:
    rows = [
        {"ts": datetime.fromisoformat(str(t)[:10]), column: float(v)}
        for t, v in zip(frame[when], frame[column], strict=True)
    ]
    _write(url, table, {"ts": sa.DateTime, column: sa.Float}, rows)


def test_seattle_summer_against_winter_is_judged_and_critical(
    tmp_path: Path, results: ResultsStore
) -> None:
    data = pytest.importorskip("vega_datasets").data.seattle_weather()
    url = f"sqlite:///{tmp_path / 'weather.db'}"
    _daily_table(url, "weather", data, "temp_max", "date")
    summer = (datetime(2012, 6, 1, tzinfo=UTC), datetime(2012, 9, 1, tzinfo=UTC))
    monitor = parse_monitor(
        {
            "name": "seattle", "source": {"url": url}, "table": "weather", "timestamp": "ts",
            "window": "92d", "features": [{"name": "temp_max", "kind": "numeric"}],
            "reference": {"start": summer[0].isoformat(), "end": summer[1].isoformat()},
        }
    )  # fmt: skip
    start = datetime(2012, 12, 1, tzinfo=UTC)
    result = run_window(monitor, start, start + timedelta(days=92), store=results, notify=False)
    (temp,) = result.scores
    assert temp.enough_data and result.status == "ok"
    assert temp.current.n == 92 and temp.reference.n == 92
    assert temp.drifted and temp.severity == "critical"


def test_the_nile_before_and_after_1899_is_judged_and_flagged(
    tmp_path: Path, results: ResultsStore
) -> None:
    nile = pytest.importorskip("statsmodels.datasets.nile").load_pandas().data
    url = f"sqlite:///{tmp_path / 'nile.db'}"
    rows = [
        {"ts": datetime(int(year), 1, 1), "volume": float(v)}
        for year, v in zip(nile["year"], nile["volume"], strict=True)
    ]
    _write(url, "nile", {"ts": sa.DateTime, "volume": sa.Float}, rows)
    monitor = parse_monitor(
        {
            "name": "nile", "source": {"url": url}, "table": "nile", "timestamp": "ts",
            "features": [{"name": "volume", "kind": "numeric", "bins": 5}],
            "reference": {"start": "1871-01-01", "end": "1899-01-01"},
        }
    )  # fmt: skip
    start, end = datetime(1899, 1, 1, tzinfo=UTC), datetime(1971, 1, 1, tzinfo=UTC)
    result = run_window(monitor, start, end, store=results, notify=False)
    (volume,) = result.scores
    assert (volume.reference.n, volume.current.n) == (28, 72)
    assert volume.enough_data and volume.drifted


def test_a_column_that_starts_missing_alerts_and_says_so(
    tmp_path: Path, results: ResultsStore
) -> None:
    # 30% of live values missing, from none: the bins do not move, the missing rate does.
    rng = np.random.default_rng(11)
    per_day, days = 500, 9
    url = f"sqlite:///{tmp_path / 'source.db'}"
    rows = []
    for i in range(per_day * days):
        late = i >= per_day * (days - 1)
        value = None if late and rng.random() < 0.3 else float(rng.normal())
        ts = DAY0 + timedelta(seconds=i * 86_400 / per_day)
        rows.append({"ts": ts.replace(tzinfo=None), "x": value})
    _write(url, "series", {"ts": sa.DateTime, "x": sa.Float}, rows)
    monitor = parse_monitor(
        {"name": "gaps", "source": {"url": url}, "table": "series", "timestamp": "ts"}
    )
    end = DAY0 + timedelta(days=days)
    result = run_window(monitor, end - timedelta(days=1), end, store=results, notify=False)
    (x,) = result.summary().features
    assert x.missing_drifted and x.missing_reference_rate == 0.0
    assert 0.25 < x.missing_rate < 0.35
    assert result.error is not None and "missing rate changed: x (0.0% ->" in result.error
    (alert,) = results.open_alerts("gaps")
    assert alert.severity == "warn"
    assert alert.message is not None and "missing values changed: 0.0% in the reference" in (
        alert.message
    )
