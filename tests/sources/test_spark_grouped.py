"""Spark counts bins by ``GROUP BY`` over bin indexes (issue 17), exactly as DuckDB does.

One set of Parquet files, read by Spark (which takes the grouped path of
``drift.sources.grouped_counts``) and by DuckDB (conditional sums): eight
numeric features with NULL, NaN and infinities, one of them all missing in
some hours, four categorical ones with values unseen in the reference,
a gap of hours without rows, and a numeric feature with fixed edges whose
reference range ends inside its bins. Thirteen features need several
blocks and two parts, so the statement is a ``UNION ALL`` of ``GROUPING
SETS``; every histogram (counts, missing,
unseen values, counts outside the reference range) must equal DuckDB's and
the streaming path's.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from spark_server import load_parquet

from drift.config import FeatureConfig
from drift.sources import SqlSource
from drift.stats.binning import Binning

pytestmark = [pytest.mark.spark, pytest.mark.slow]

T0 = datetime(2024, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
HOURS, GAP = 30, range(20, 23)  # a row a minute, none in hours 20-22
NUMERIC = [f"x{j}" for j in range(8)]
CATEGORICAL = [f"k{j}" for j in range(4)]
FEATURES = [
    *(FeatureConfig(name=n, kind="numeric", bins=10) for n in NUMERIC),
    *(FeatureConfig(name=n, kind="categorical", top_k=5) for n in CATEGORICAL),
    FeatureConfig(name="fixed", kind="numeric", edges=(10.0, 50.0, 90.0)),
]


MINUTES = [m for m in range(HOURS * 60) if m // 60 not in GAP]
N = len(MINUTES)


def _number(rng: random.Random, j: int) -> float | None:
    roll = rng.random()
    if roll < 0.04:
        return None
    if roll < 0.07:
        return math.nan
    if roll < 0.09:
        return math.inf if roll < 0.08 else -math.inf
    return round(rng.gauss(10 * j, 5 + j), 1)


def _write(folder: Path) -> None:
    rng = random.Random(17)
    stamps = [(T0 + timedelta(minutes=m)).replace(tzinfo=None) for m in MINUTES]
    hours = [m // 60 for m in MINUTES]
    columns: dict[str, pa.Array] = {"ts": pa.array(stamps, pa.timestamp("us"))}
    for j, name in enumerate(NUMERIC):
        values = [_number(rng, j) for _ in stamps]
        if name == "x7":  # all missing from hour 12 to 16
            values = [rng.choice([None, math.nan]) if 12 <= h < 16 else v
                      for h, v in zip(hours, values, strict=True)]  # fmt: skip
        columns[name] = pa.array(values, pa.float64())
    for j, name in enumerate(CATEGORICAL):
        pool = [f"v{i}" for i in range(6 + j)]
        values = [None if rng.random() < 0.05 else
                  rng.choice(pool if h < 24 else [*pool, "new", "Néw", "new "])
                  for h in hours]  # fmt: skip
        columns[name] = pa.array(values, pa.string())
    # Reference (first day) values lie in [20, 80]: the range ends inside the outer bins.
    columns["fixed"] = pa.array(
        [round(rng.uniform(20, 80) if h < 24 else rng.uniform(0, 100), 1) for h in hours],
        pa.float64(),
    )
    folder.mkdir(parents=True)
    pq.write_table(pa.table(columns), folder / "part-0.parquet")


@pytest.fixture(scope="module")
def pair(spark_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("grouped") / "events"
    _write(folder)
    spark = spark_server.engine()
    load_parquet(spark, "events_grouped", folder)
    duck = sa.create_engine("duckdb:///:memory:")
    with duck.begin() as conn:
        conn.execute(
            sa.text(f"CREATE VIEW events_grouped AS SELECT * FROM read_parquet('{folder}/*')")
        )
    duck_src = SqlSource(duck, table="events_grouped", timestamp="ts")
    binnings = duck_src.fit(FEATURES, T0, T0 + 24 * HOUR)
    yield duck_src, SqlSource(spark, table="events_grouped", timestamp="ts"), binnings
    spark.dispose()
    duck.dispose()


def _statements(engine: sa.Engine, call: Callable[[], Any]) -> tuple[Any, list[str]]:
    sent: list[str] = []

    def grab(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", grab)
    try:
        return call(), sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", grab)


def test_the_fixed_binning_has_its_range_inside_its_outer_bins(pair: Any) -> None:
    binning = pair[2]["fixed"]
    assert binning.cuts == (10.0, 50.0, 90.0)
    assert 10.0 < binning.low < 50.0 < binning.high < 90.0


def test_one_window_of_many_features_is_one_statement_equal_to_duckdb(
    pair: Any,
) -> None:
    duck, spark, binnings = pair
    lo, hi = T0 + 24 * HOUR, T0 + HOURS * HOUR
    got, sent = _statements(spark.engine, lambda: spark.histograms(binnings, lo, hi))
    counting = [s for s in sent if "count(*)" in s and "GROUP BY GROUPING SETS" in s]
    assert len(counting) == 1 and "UNION ALL" in counting[0]  # several blocks, two parts
    assert not any("sum(CASE" in s for s in sent)
    want = duck.histograms(binnings, lo, hi)
    assert got == want
    assert got == spark.histograms(binnings, lo, hi, pushdown=False)
    assert all(got[n].unseen for n in CATEGORICAL)  # "new", "Néw", "new " after hour 24
    assert got["fixed"].below > 0 and got["fixed"].above > 0
    assert got["x0"].missing > 0 and got["x0"].counts[0] > 0 and got["x0"].counts[-1] > 0


def test_backfill_with_empty_and_all_missing_windows_equals_duckdb(pair: Any) -> None:
    duck, spark, binnings = pair
    bounds = [T0 + i * HOUR for i in range(HOURS + 1)]
    got: list[dict[str, Any]] = list(spark.window_histograms(binnings, bounds))
    want = list(duck.window_histograms(binnings, bounds))
    assert got == want
    for hour in GAP:
        assert all(h.total == 0 for h in got[hour].values())
    for hour in range(12, 16):
        assert got[hour]["x7"].n == 0 and got[hour]["x7"].missing == 60
    assert sum(got[h]["k0"].total for h in range(HOURS)) == N


def test_backfill_windows_equal_each_window_alone_on_spark(pair: Any) -> None:
    _, spark, binnings = pair
    some: dict[str, Binning] = {n: binnings[n] for n in ("x7", "k3", "fixed")}
    bounds = [T0 + i * HOUR for i in (11, 12, 20, 24, 29)]  # irregular: the CASE-tree index
    got = list(spark.window_histograms(some, bounds))
    alone = [spark.histograms(some, lo, hi) for lo, hi in itertools.pairwise(bounds)]
    assert got == alone
