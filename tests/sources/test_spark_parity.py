"""Spark SQL gives the same fits and counts as DuckDB on the same Parquet files (issue 17)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from spark_server import load_parquet

from drift.config import FeatureConfig
from drift.sources.sql import SqlSource

pytestmark = [pytest.mark.spark, pytest.mark.slow]

T0 = datetime(2024, 1, 1, tzinfo=UTC)
FEATURES = [
    FeatureConfig(name="amount", kind="numeric"),
    FeatureConfig(name="country", kind="categorical"),
]


def _events(folder: Path, n: int = 2000) -> None:
    rng = random.Random(3)
    amounts: list[float | None] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.05:
            amounts.append(None)
        elif r < 0.08:
            amounts.append(math.nan)
        elif r < 0.10:
            amounts.append(math.inf if r < 0.09 else -math.inf)
        else:
            amounts.append(round(rng.gauss(50, 20), 2))
    # "zz" only appears after the reference day: an unseen category in the live window.
    countries = [
        None if rng.random() < 0.05 else rng.choice(["US", "DE", "us", "DE ", "Åland"])
        for _ in range(n // 2)
    ] + [rng.choice(["US", "zz", "DE"]) for _ in range(n - n // 2)]
    naive = [(T0 + timedelta(minutes=i * 2)).replace(tzinfo=None) for i in range(n)]
    folder.mkdir()
    table = pa.table(
        {
            "ts": pa.array(naive, pa.timestamp("us")),
            "amount": pa.array(amounts, pa.float64()),
            "country": pa.array(countries, pa.string()),
        }
    )
    pq.write_table(table, folder / "part-0.parquet")


@pytest.fixture(scope="module")
def pair(spark_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("parity") / "events"
    _events(folder)
    spark = spark_server.engine()
    load_parquet(spark, "events_parity", folder)
    duck = sa.create_engine("duckdb:///:memory:")
    with duck.begin() as conn:
        conn.execute(
            sa.text(f"CREATE VIEW events_parity AS SELECT * FROM read_parquet('{folder}/*')")
        )
    yield (
        SqlSource(duck, table="events_parity", timestamp="ts"),
        SqlSource(spark, table="events_parity", timestamp="ts"),
    )
    spark.dispose()
    duck.dispose()


def _same(a: Any, b: Any) -> bool:
    return a.counts.tolist() == b.counts.tolist() and a.missing == b.missing


def test_spark_fit_and_window_match_duckdb(pair: Any) -> None:
    duck, spark = pair
    end = T0 + timedelta(hours=33)
    fitted = duck.fit(FEATURES, T0, T0 + timedelta(hours=24))
    assert spark.fit(FEATURES, T0, T0 + timedelta(hours=24)) == fitted
    want = duck.histograms(fitted, T0 + timedelta(hours=24), end)
    got = spark.histograms(fitted, T0 + timedelta(hours=24), end)
    assert all(_same(want[k], got[k]) for k in want)
    assert want["amount"].missing > 0


def test_spark_one_pass_backfill_matches_duckdb(pair: Any) -> None:
    duck, spark = pair
    fitted = duck.fit(FEATURES, T0, T0 + timedelta(hours=24))
    bounds = [T0 + timedelta(hours=3 * i) for i in range(23)]
    want = list(duck.window_histograms(fitted, bounds))
    got = list(spark.window_histograms(fitted, bounds))
    assert len(got) == 22
    assert all(_same(w[k], g[k]) for w, g in zip(want, got, strict=True) for k in w)


def test_spark_error_is_one_line(pair: Any) -> None:
    from drift.errors import SourceError

    _, spark = pair
    with pytest.raises(SourceError) as info, spark.engine.connect() as conn:
        conn.execute(sa.text("SELECT nocol FROM events_parity"))
    assert "UNRESOLVED_COLUMN" in str(info.value)
    assert "\n" not in str(info.value) and len(str(info.value)) < 600
