"""The grouped bin counts of Spark (``drift.sources.grouped_counts``), checked fast on DuckDB.

The SQL the module builds (``CASE`` trees, ``GROUP BY``, ``GROUPING SETS``)
is standard, so DuckDB runs it as Spark does; here it is compared with the
pure-Python rule (:func:`drift.stats.counting.histogram`) on values chosen
to sit on every edge: cuts (repeated ones too), the reference range's ends,
NaN, infinities and NULL. The Spark tests (``test_spark_grouped.py``) check
the same shape on the real engine.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from drift.sources import grouped_counts
from drift.sources.bin_index import bin_index
from drift.sources.dialects import dialect_of
from drift.sources.predicates import Target, missing
from drift.sources.pushdown import top_values
from drift.sources.windowed import unseen_by_window
from drift.stats.binning import Binning, CategoricalBinning, NumericBinning
from drift.stats.counting import histogram
from drift.stats.histogram import Histogram


@pytest.fixture(scope="module")
def duck() -> Iterator[sa.Engine]:
    engine = sa.create_engine("duckdb:///:memory:")
    yield engine
    engine.dispose()


def _load(engine: sa.Engine, columns: dict[str, list[Any]], windows: list[int]) -> sa.Table:
    """A fresh table ``t`` of float ``x*`` and text ``c*`` columns and a window index ``w``."""
    meta = sa.MetaData()
    types = {n: sa.Double() if n.startswith("x") else sa.String() for n in columns}
    table = sa.Table("t", meta, sa.Column("w", sa.Integer()),
                     *(sa.Column(n, t) for n, t in types.items()))  # fmt: skip
    rows = [{"w": w, **{n: v[i] for n, v in columns.items()}} for i, w in enumerate(windows)]
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS t"))
        meta.create_all(conn)
        if rows:
            conn.execute(table.insert(), rows)
    return table


def _targets(
    engine: sa.Engine, table: sa.Table, binnings: dict[str, Binning]
) -> list[tuple[Target, Binning]]:
    dialect = dialect_of(engine)
    out = []
    for name, binning in binnings.items():
        column = table.c[name]
        numeric = isinstance(binning, NumericBinning)
        value = column if numeric else dialect.as_string(column)
        out.append((Target(name, value, missing(column, dialect, numeric)), binning))
    return out


def _expected(binning: Binning, values: Sequence[Any]) -> Histogram:
    return histogram(binning, [v for v in values])


def _count(engine: sa.Engine, columns: dict[str, list[Any]],
           binnings: dict[str, Binning]) -> tuple[int, dict[str, Histogram]]:  # fmt: skip
    n = len(next(iter(columns.values())))
    table = _load(engine, columns, [0] * n)
    with engine.connect() as conn:
        return grouped_counts.count_bins(
            conn, table, sa.true(), _targets(engine, table, binnings), top_values
        )


EDGES = [-math.inf, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf]


def test_numeric_leaves_know_their_bin_and_side_of_the_range() -> None:
    """Cuts (1, 2), range (1.5, 1.8) inside the middle bin: five leaves."""
    target = Target("x", sa.column("x"), sa.column("x").is_(None))
    index = bin_index(target, NumericBinning((1.0, 2.0), low=1.5, high=1.8))
    assert index.bins == (0, 1, 1, 1, 2)
    assert index.regions == (1, 1, 0, 2, 2)  # below, below, inside, above, above
    assert index.cardinality == 6


@pytest.mark.parametrize(
    "binning",
    [
        NumericBinning((0.0, 1.0, 2.0), low=-1.0, high=3.0),
        NumericBinning((0.0, 1.0, 2.0), low=0.5, high=1.5),  # range ends inside bins
        NumericBinning((0.0, 1.0, 2.0), low=1.0, high=1.0),  # a one-point range on a cut
        NumericBinning((1.0, 1.0, 2.0)),  # a repeated cut: an empty bin
        NumericBinning(()),  # one bin
        NumericBinning((), low=0.0, high=1.0),
    ],
    ids=["outer-range", "inner-range", "point-range", "repeated-cut", "one-bin", "one-bin-ranged"],
)
def test_numeric_index_follows_the_bin_rule_on_every_edge(
    duck: sa.Engine, binning: NumericBinning
) -> None:
    values: list[Any] = [*EDGES, *EDGES, math.nan, None, 0.25, 1.75]
    rows, hists = _count(duck, {"x": values}, {"x": binning})
    assert rows == len(values)
    assert hists["x"] == _expected(binning, values)


def test_categories_other_missing_and_unseen_values(duck: sa.Engine) -> None:
    values = ["US", "DE", "us", "DE ", None, "US", "zz", "zz", "Åland", ""]
    binning = CategoricalBinning(("US", "DE", "Åland"))
    _, hists = _count(duck, {"c": values}, {"c": binning})
    assert hists["c"] == _expected(binning, values)
    assert dict(hists["c"].unseen) == {"zz": 2, "": 1, "DE ": 1, "us": 1}


def test_many_features_are_grouping_sets_in_parts_and_each_histogram_a_marginal(
    duck: sa.Engine,
) -> None:
    n = 300
    columns: dict[str, list[Any]] = {
        f"x{j}": [None if i % 17 == j else math.nan if i % 23 == j else (i * (j + 3)) % 41 - 20.0
                  for i in range(n)]
        for j in range(9)
    }  # fmt: skip
    columns["c0"] = [None if i % 11 == 0 else f"v{i % 9}" for i in range(n)]
    binnings: dict[str, Binning] = {
        f"x{j}": NumericBinning(tuple(float(c) for c in range(-15, 16, 3)), low=-18.0, high=18.0)
        for j in range(9)
    }
    binnings["c0"] = CategoricalBinning(tuple(f"v{i}" for i in range(6)))
    indexes = [bin_index(t, b) for t, b in _targets(duck, _load(duck, columns, [0] * n), binnings)]
    assert len(grouped_counts.blocks([ix.cardinality for ix in indexes])) > 1  # GROUPING SETS
    assert len(grouped_counts.parts([len(ix.bins) for ix in indexes])) > 1  # UNION ALL
    rows, hists = _count(duck, columns, binnings)
    assert rows == n
    for name, binning in binnings.items():
        assert hists[name] == _expected(binning, columns[name]), name


def test_windows_empty_all_missing_and_unseen_per_window(duck: sa.Engine) -> None:
    # Window 0: values; window 1: no rows; window 2: x all NULL or NaN, c unseen only.
    xs: list[Any] = [0.5, 1.5, -math.inf, math.inf, None, None, math.nan, None]
    cs: list[Any] = ["a", "b", "a", None, "q", "q", "r", None]
    windows = [0, 0, 0, 0, 2, 2, 2, 2]
    binnings: dict[str, Binning] = {
        "x": NumericBinning((1.0,), low=0.0, high=2.0),
        "c": CategoricalBinning(("a", "b")),
    }
    table = _load(duck, {"x": xs, "c": cs}, windows)
    with duck.connect() as conn:
        got = grouped_counts.count_bins_by_window(
            conn, table, sa.true(), table.c.w, 3, _targets(duck, table, binnings), unseen_by_window
        )
    for w in range(3):
        mine = [i for i, v in enumerate(windows) if v == w]
        for name, values in (("x", xs), ("c", cs)):
            want = _expected(binnings[name], [values[i] for i in mine])
            assert got[w][name] == want, (w, name)
    assert got[1]["x"].total == 0 and got[2]["x"].missing == 4 and got[2]["x"].n == 0
    assert dict(got[2]["c"].unseen) == {"q": 2, "r": 1}


finite = st.floats(-5, 5, allow_nan=False).map(lambda v: round(v * 4) / 4)


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(finite, max_size=6).map(sorted),
    bounds=st.none() | st.tuples(finite, finite).map(sorted),
    values=st.lists(finite | st.sampled_from([math.nan, math.inf, -math.inf, None]), max_size=40),
)
def test_any_non_decreasing_cuts_and_range_count_as_the_python_rule(
    duck: sa.Engine, cuts: list[float], bounds: list[float] | None, values: list[Any]
) -> None:
    low, high = (None, None) if bounds is None else bounds
    binning = NumericBinning(tuple(cuts), low=low, high=high)
    _rows, hists = _count(duck, {"x": [*values, 0.0]}, {"x": binning})
    assert hists["x"] == _expected(binning, [*values, 0.0])


def test_only_spark_dialects_and_non_decreasing_cuts_are_grouped() -> None:
    target = Target("x", sa.column("x"), sa.column("x").is_(None))
    fine = [(target, NumericBinning((1.0, 2.0)))]
    assert grouped_counts.groupable("hive", fine)
    assert grouped_counts.groupable("databricks", fine)
    assert not grouped_counts.groupable("duckdb", fine)
    assert not grouped_counts.groupable("hive", [(target, NumericBinning((2.0, 1.0)))])
    assert not grouped_counts.groupable("hive", [])
