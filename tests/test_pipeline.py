"""The pipeline end to end on every backend: source -> bins -> scores -> store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from stored import stored_scores

from drift.config import parse_monitor
from drift.config.windows import windows_between
from drift.errors import SourceError
from drift.run import backfill, measure_window
from drift.store import ResultsStore

DAY0 = datetime(2024, 3, 1, tzinfo=UTC)
ROWS_PER_DAY = 400
SHIFT_DAY = 8


def _make_events(url: str, *, days: int = 11, seed: int = 7) -> None:
    """Daily events; from SHIFT_DAY on, `amount` moves up and a new country appears."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in range(days):
        shifted = day >= SHIFT_DAY
        for i in range(ROWS_PER_DAY):
            ts = DAY0 + timedelta(days=day, seconds=int(i * 86_400 / ROWS_PER_DAY))
            amount = float(rng.normal(50 + (15 if shifted else 0), 10))
            countries = ["US", "DE", "FR", "BR"] if shifted else ["US", "DE", "FR"]
            rows.append(
                {
                    "created_at": ts.replace(tzinfo=None),
                    "amount": None if i % 50 == 0 else amount,
                    "country": str(rng.choice(countries)),
                }
            )
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table(
        "events",
        meta,
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("amount", sa.Float),
        sa.Column("country", sa.String(8)),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    engine.dispose()


def _monitor(url: str, **extra: object) -> object:
    data = {
        "name": "events_monitor",
        "source": {"url": url},
        "table": "events",
        "timestamp": "created_at",
        "window": "1d",
        "reference": {"previous_windows": 3},
        "features": [
            {"name": "amount", "kind": "numeric", "bins": 10},
            {"name": "country", "kind": "categorical"},
        ],
        **extra,
    }
    return parse_monitor(data)


@pytest.mark.db
def test_backfill_finds_the_shift_and_nothing_before_it(db_url: str, store: ResultsStore) -> None:
    _make_events(db_url)
    monitor = _monitor(db_url)
    results = backfill(monitor, DAY0 + timedelta(days=3), DAY0 + timedelta(days=11), store=store)
    assert [r.window_start.day for r in results] == list(range(4, 12))
    assert all(r.status == "ok" for r in results), [r.error for r in results]
    before = [r for r in results if r.window_start < DAY0 + timedelta(days=SHIFT_DAY)]
    after = [r for r in results if r.window_start == DAY0 + timedelta(days=SHIFT_DAY)]
    assert all(r.drifted == () for r in before)
    assert set(after[0].drifted) == {"amount", "country"}
    country = next(s for s in after[0].scores if s.feature == "country")
    assert "BR" in country.current.unseen
    runs = store.runs("events_monitor")
    assert len(runs) == 8


@pytest.mark.db
def test_rerunning_a_window_replaces_its_rows(db_url: str, store: ResultsStore) -> None:
    _make_events(db_url)
    monitor = _monitor(db_url)
    start = DAY0 + timedelta(days=SHIFT_DAY)
    first = measure_window(monitor, start, start + timedelta(days=1), store=store)
    second = measure_window(monitor, start, start + timedelta(days=1), store=store)
    assert len(store.runs("events_monitor")) == 1
    series = stored_scores(
        store, "events_monitor", "kl", start, start + timedelta(days=1), "amount"
    )
    assert len(series) == 1
    assert [s.metrics["kl"] for s in first.scores] == [s.metrics["kl"] for s in second.scores]


@pytest.mark.db
def test_a_window_without_reference_rows_is_an_error_run(db_url: str, store: ResultsStore) -> None:
    _make_events(db_url)
    monitor = _monitor(db_url)
    with pytest.raises(SourceError, match="has no rows to fit bins on"):
        measure_window(monitor, DAY0, DAY0 + timedelta(days=1), store=store)
    (run,) = store.runs("events_monitor")
    assert run.status == "error"
    assert "has no rows to fit bins on" in (run.error or "")


@pytest.mark.db
def test_a_small_window_is_insufficient_data(db_url: str, store: ResultsStore) -> None:
    _make_events(db_url)
    monitor = _monitor(db_url, thresholds={"min_rows": 1000})
    start = DAY0 + timedelta(days=SHIFT_DAY)
    result = measure_window(monitor, start, start + timedelta(days=1), store=store)
    assert result.status == "insufficient_data"
    assert result.drifted == ()
    assert "live rows 400 < 1000" in (result.error or "")


def test_daily_windows_align_to_utc_days() -> None:
    monitor = _monitor("sqlite://")
    got = list(
        windows_between(
            monitor, datetime(2024, 1, 1, 5, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC)
        )
    )
    assert got == [
        (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)),
        (datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC)),
    ]


def test_cron_windows_end_at_ticks() -> None:
    monitor = parse_monitor(
        {
            "name": "m",
            "source": {"url": "sqlite://"},
            "table": "t",
            "timestamp": "ts",
            "schedule": "0 */6 * * *",
        }
    )
    got = list(
        windows_between(
            monitor, datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 13, tzinfo=UTC)
        )
    )
    assert [(a.hour, b.hour) for a, b in got] == [(0, 6), (6, 12)]


@pytest.mark.db
def test_a_missing_column_is_an_error_but_the_other_features_are_scored(
    db_url: str, store: ResultsStore
) -> None:
    _make_events(db_url)
    monitor = _monitor(
        db_url,
        features=[
            {"name": "amount", "kind": "numeric"},
            {"name": "coupon", "kind": "categorical"},
        ],
    )
    start = DAY0 + timedelta(days=SHIFT_DAY)
    result = measure_window(monitor, start, start + timedelta(days=1), store=store)
    assert result.status == "error"
    assert "coupon: column not found" in (result.error or "")
    assert [s.feature for s in result.scores] == ["amount"]
    (run,) = store.runs("events_monitor")
    assert run.status == "error" and "coupon" in (run.error or "")
    assert {s.feature for s in store.run_scores(run.id)} == {"amount"}


@pytest.mark.db
def test_a_seasonal_reference_is_the_same_window_one_season_back(
    db_url: str, store: ResultsStore
) -> None:
    _make_events(db_url)
    monitor = _monitor(db_url, reference={"season": "7d"})
    quiet = DAY0 + timedelta(days=SHIFT_DAY)  # the window before it is the last unshifted one
    (before,) = backfill(monitor, quiet - timedelta(days=1), quiet, store=store)
    (after,) = backfill(monitor, quiet, quiet + timedelta(days=1), store=store)
    assert before.drifted == ()
    assert set(after.drifted) == {"amount", "country"}
    assert after.scores[0].reference.n == ROWS_PER_DAY - ROWS_PER_DAY // 50


@pytest.mark.db
def test_a_separate_reference_table_is_fitted_once(db_url: str, store: ResultsStore) -> None:
    _make_events(db_url)
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE training AS SELECT amount, country FROM events "
                "WHERE created_at < :cut"
            ),
            {"cut": (DAY0 + timedelta(days=3)).replace(tzinfo=None)},
        )
    engine.dispose()
    monitor = _monitor(db_url, reference={"table": "training"})
    results = backfill(
        monitor, DAY0 + timedelta(days=SHIFT_DAY - 2), DAY0 + timedelta(days=SHIFT_DAY + 1),
        store=store,
    )  # fmt: skip
    assert [bool(r.drifted) for r in results] == [False, False, True]
    assert {r.scores[0].reference.n for r in results} == {3 * ROWS_PER_DAY - 3 * 8}
    assert len({b.version for b in store.baseline_in_force("events_monitor")}) == 1


@pytest.mark.db
def test_a_feature_can_have_its_own_thresholds(db_url: str, store: ResultsStore) -> None:
    _make_events(db_url)
    lenient = {"warn": 5, "critical": 10, "min_effect": 5}
    monitor = _monitor(
        db_url,
        features=[
            {"name": "amount", "kind": "numeric", "thresholds": lenient},
            {"name": "country", "kind": "categorical"},
        ],
    )
    start = DAY0 + timedelta(days=SHIFT_DAY)
    result = measure_window(monitor, start, start + timedelta(days=1), store=store)
    assert result.drifted == ("country",)
    amount = result.scores[0]
    assert amount.p_adjusted < 1e-6 and amount.thresholds.min_effect == 5


@pytest.mark.db
def test_a_window_that_ends_in_the_future_is_refused_and_not_stored(
    db_url: str, store: ResultsStore
) -> None:
    _make_events(db_url)
    monitor = _monitor(db_url)
    end = datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(
        ValueError, match=r"window end 2030-01-01T00:00:00\+00:00 is in the future \(now 20"
    ):
        measure_window(monitor, end - timedelta(days=1), end, store=store)
    assert store.runs("events_monitor") == []
