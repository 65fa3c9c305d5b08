"""The source tests of every backend, on Spark SQL (issue 17), plus Spark's own identifiers.

The tests of ``test_sql_source.py`` that take only the ``events`` table run
here again, unchanged, against the session's Spark Thrift server: the same
rows (with NaN and infinities, which Spark holds), written to Parquet and
read with ``CREATE TABLE ... USING parquet``, in a database of their own.
Each asserts the numbers against numpy or the streaming path, as on the
four other backends.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from source_data import DAY, T0, Events, make_rows
from spark_server import load_parquet
from test_sql_source import (
    LIVE,
    test_constant_column_gives_one_cut_and_all_values_in_the_upper_bin,
    test_empty_reference_fits_one_bin,
    test_empty_window_gives_zero_histograms,
    test_fixed_edges_are_used_as_given,
    test_kinds_are_inferred_from_column_types,
    test_missing_column_names_the_column_table_and_existing_columns,
    test_missing_table_is_named,
    test_missing_timestamp_column_is_named,
    test_nan_is_missing_and_infinities_land_in_outer_bins,
    test_omitted_features_mean_every_column,
    test_pushed_down_histograms_match_numpy,
    test_quantile_cuts_are_the_inverted_cdf_order_statistics,
    test_query_source_reads_the_select,
    test_row_count_and_unbounded_reads,
    test_streaming_fallback_equals_pushdown,
    test_text_histograms_count_tokens_against_the_vocabulary,
    test_top_k_categories_are_compared_as_exact_strings,
    test_uniform_strategy_cuts_between_finite_min_and_max,
)

from drift.config import FeatureConfig
from drift.errors import SourceError
from drift.sources import SqlSource

pytestmark = [pytest.mark.spark, pytest.mark.slow]

__all__ = [  # the shared tests, collected here on Spark
    "test_constant_column_gives_one_cut_and_all_values_in_the_upper_bin",
    "test_empty_reference_fits_one_bin",
    "test_empty_window_gives_zero_histograms",
    "test_fixed_edges_are_used_as_given",
    "test_kinds_are_inferred_from_column_types",
    "test_missing_column_names_the_column_table_and_existing_columns",
    "test_missing_table_is_named",
    "test_missing_timestamp_column_is_named",
    "test_nan_is_missing_and_infinities_land_in_outer_bins",
    "test_omitted_features_mean_every_column",
    "test_pushed_down_histograms_match_numpy",
    "test_quantile_cuts_are_the_inverted_cdf_order_statistics",
    "test_query_source_reads_the_select",
    "test_row_count_and_unbounded_reads",
    "test_streaming_fallback_equals_pushdown",
    "test_text_histograms_count_tokens_against_the_vocabulary",
    "test_top_k_categories_are_compared_as_exact_strings",
    "test_uniform_strategy_cuts_between_finite_min_and_max",
]

DATABASE = "drift_source_tests"


def _parquet(folder: Path, columns: dict[str, pa.Array]) -> Path:
    folder.mkdir(parents=True)
    pq.write_table(pa.table(columns), folder / "part-0.parquet")
    return folder


@pytest.fixture(scope="module")
def spark_db(spark_server: Any) -> Iterator[sa.Engine]:
    admin = spark_server.engine()
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS {DATABASE}"))
    admin.dispose()
    engine = sa.create_engine(spark_server.url.replace("/default?", f"/{DATABASE}?"))
    try:
        yield engine
    finally:
        engine.dispose()
        admin = spark_server.engine()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DATABASE} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="module")
def events(spark_db: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Events:
    rows = make_rows("spark")
    naive = [r["ts"].astimezone(UTC).replace(tzinfo=None) for r in rows]
    folder = _parquet(
        tmp_path_factory.mktemp("spark_events") / "events",
        {
            "id": pa.array([r["id"] for r in rows], pa.int64()),
            "ts": pa.array(naive, pa.timestamp("us")),
            "amount": pa.array([r["amount"] for r in rows], pa.float64()),
            "qty": pa.array([r["qty"] for r in rows], pa.int64()),
            "const": pa.array([r["const"] for r in rows], pa.float64()),
            "country": pa.array([r["country"] for r in rows], pa.string()),
            "prompt": pa.array([r["prompt"] for r in rows], pa.string()),
        },
    )
    load_parquet(spark_db, "events", folder)
    return Events(spark_db, "events", rows, "spark")


def test_spark_holds_nan_and_infinities(events: Events) -> None:
    """The table really holds them (so the shared tests above count them)."""
    amounts = events.values("amount")
    want = (sum(isinstance(v, float) and math.isnan(v) for v in amounts),
            amounts.count(math.inf), amounts.count(-math.inf))  # fmt: skip
    assert min(want) > 0
    with events.engine.connect() as conn:
        got = conn.execute(sa.text(
            "SELECT count_if(isnan(amount)), count_if(amount = CAST('Infinity' AS DOUBLE)), "
            "count_if(amount = CAST('-Infinity' AS DOUBLE)) FROM events"
        )).one()  # fmt: skip
    assert tuple(got) == want


def test_a_missing_table_lists_the_tables_of_the_database(events: Events) -> None:
    src = SqlSource(events.engine, table="evnts", timestamp="ts")
    with pytest.raises(SourceError) as info:
        src.row_count(*LIVE)
    assert str(info.value) == "table evnts not found; the database has 'events'"


HOSTILE = ['x"; DROP TABLE victim; --', "x`; DROP TABLE victim; --", "x'); DROP TABLE victim; --",
           "a b,c;d"]  # fmt: skip


@pytest.fixture(scope="module")
def hostile(spark_db: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """Columns named to inject SQL, a timestamp named so too, and a ``victim`` table."""
    n = 96
    stamps = [(T0 + timedelta(hours=i)).replace(tzinfo=None) for i in range(n)]
    base = tmp_path_factory.mktemp("spark_hostile")
    load_parquet(spark_db, "odd", _parquet(base / "odd", {
        "ts'; DELETE FROM victim; /*": pa.array(stamps, pa.timestamp("us")),
        HOSTILE[0]: pa.array([float(i % 7) for i in range(n)], pa.float64()),
        HOSTILE[1]: pa.array([["US", "DE"][i % 2] for i in range(n)], pa.string()),
        HOSTILE[2]: pa.array([float(i) for i in range(n)], pa.float64()),
        HOSTILE[3]: pa.array([float(i % 3) for i in range(n)], pa.float64()),
        "a.b": pa.array([1.0] * n, pa.float64()),
    }))  # fmt: skip
    load_parquet(spark_db, "victim", _parquet(base / "victim", {"v": pa.array([1], pa.int64())}))
    return spark_db


def test_hostile_names_are_read_as_names(hostile: sa.Engine) -> None:
    src = SqlSource(hostile, table="odd", timestamp="ts'; DELETE FROM victim; /*")
    features = [FeatureConfig(name=HOSTILE[0], kind="numeric"),
                FeatureConfig(name=HOSTILE[1], kind="categorical"),
                FeatureConfig(name=HOSTILE[2], kind="numeric"),
                FeatureConfig(name=HOSTILE[3], kind="numeric")]  # fmt: skip
    binnings = src.fit(features, T0, T0 + DAY)
    for pushdown in (True, False):
        hists = src.histograms(binnings, T0 + DAY, T0 + 2 * DAY, pushdown=pushdown)
        assert [hists[f.name].total for f in features] == [24, 24, 24, 24]
    with hostile.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM victim")).scalar_one() == 1


def test_a_dotted_name_the_spark_dialect_cannot_resolve_is_refused_up_front(
    hostile: sa.Engine,
) -> None:
    name, why = "a.b", "a dot"
    src = SqlSource(hostile, table="odd", timestamp="ts'; DELETE FROM victim; /*")
    with pytest.raises(SourceError) as info:
        src.fit([FeatureConfig(name=name, kind="numeric")], T0, T0 + DAY)
    message = str(info.value)
    assert f"column {name!r} in table odd contains {why}" in message
    assert "query:" in message  # says how to read it anyway
