"""Bin counts on Spark SQL by ``GROUP BY`` over per-feature bin indexes.

:func:`drift.sources.pushdown.count_bins` counts with one conditional sum per
bin (``SUM(CASE WHEN ... THEN 1 ELSE 0 END)``), about 27 aggregates a row for
a 10-bin numeric and a 12-category feature. On Spark that shape costs twice
what a ``GROUP BY`` does (bench/RESULTS.md, "Spark (issue 17)"), so on the
Spark dialects each feature gets one integer *bin index* instead, and the
rows are grouped by the indexes:

- numeric: ``-1`` when missing (NULL or NaN, tested first: Spark holds NaN,
  NaN = NaN and it sorts above every number), else a balanced ``CASE`` tree
  over the cuts (about ``log2(k)`` comparisons a row). A binning with a
  reference range adds the range's ends to the tree's splits (``x < low``,
  ``x <= high``), so a leaf knows both its bin and whether its values are
  below, inside or above the range;
- categorical: ``-1`` when missing, ``CASE WHEN v = c_0 THEN 0 ... ELSE k
  END`` over the ``k`` kept categories (``k`` is the "other" bin).

One statement a window, so its counts are consistent with each other
(Spark reads are not snapshot-isolated)::

    SELECT [w,] b0, b1, ..., count(*) AS n
    FROM (SELECT [<window index> AS w,] <index 0> AS b0, ... FROM t WHERE <window>) AS binned
    GROUP BY [w,] b0, b1, ...                                   -- one block
    GROUP BY GROUPING SETS (([w,] b0, b1), ([w,] b2), ...)      -- several

Features whose indexes have few combinations are grouped together (a
*block*: the product of their index cardinalities is at most
``MAX_BLOCK_GROUPS``); more blocks are ``GROUPING SETS`` of the same
statement, each set one block (an index column is NULL in the rows of the
other sets; an index itself is never NULL). A feature's histogram is the
marginal sum of its block's groups.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.sources.predicates import Target
from drift.sources.spark import SPARK_DIALECTS
from drift.stats.binning import Binning, CategoricalBinning, NumericBinning
from drift.stats.histogram import UNSEEN_KEEP, Histogram

__all__ = [
    "GROUPED_DIALECTS",
    "MAX_BLOCK_GROUPS",
    "MAX_RESULT_ROWS",
    "BinIndex",
    "bin_index",
    "blocks",
    "count_bins",
    "count_bins_by_window",
    "groupable",
]

#: Dialects whose bins are counted here (the others use conditional sums).
GROUPED_DIALECTS = SPARK_DIALECTS
#: Most index combinations (product of cardinalities) one block of features may have.
MAX_BLOCK_GROUPS = 4096
#: Most groups (windows x combinations) blocks may grow to in one statement.
MAX_RESULT_ROWS = 30_000

#: ``top_values(conn, source, where, target, exclude, limit)`` of :mod:`.pushdown`.
TopValues = Callable[
    [sa.Connection, sa.FromClause, ColumnElement[bool], Target, Sequence[str], int],
    dict[str, int],
]
#: ``unseen(conn, source, key, where, windows, target, categories)`` of :mod:`.windowed`.
UnseenByWindow = Callable[
    [
        sa.Connection,
        sa.FromClause,
        ColumnElement[int],
        ColumnElement[bool],
        int,
        Target,
        Sequence[str],
    ],
    list[dict[str, int]],
]

_INSIDE, _BELOW, _ABOVE = 0, 1, 2


def _int(value: int) -> ColumnElement[int]:
    return sa.literal_column(str(value), sa.Integer())


@dataclass(frozen=True, slots=True)
class BinIndex:
    """One feature's bin index expression and how to read its values.

    ``expression`` is ``-1`` for a missing value, else a *leaf* ``0 <= j <
    len(bins)``; leaf ``j`` lies in bin ``bins[j]`` and is below, inside or
    above the reference range as ``regions[j]`` says (always inside when the
    binning has no range).
    """

    target: Target
    binning: Binning
    expression: ColumnElement[int]
    bins: tuple[int, ...]
    regions: tuple[int, ...]

    @property
    def cardinality(self) -> int:
        """How many values the index takes: the leaves and ``-1``."""
        return len(self.bins) + 1

    def histograms(
        self, table: npt.NDArray[np.int64], unseen: Sequence[dict[str, int]]
    ) -> list[Histogram]:
        """One histogram per row of ``table`` (windows x ``cardinality``, missing first).

        Bin counts ``counts[b] = sum(table[:, 1 + j] for leaf j with bins[j] = b)``;
        ``below`` and ``above`` sum the leaves of those regions.
        """
        leaves = table[:, 1:]
        k = len(self.binning.labels)
        to_bin = np.zeros((len(self.bins), k), dtype=np.int64)
        to_bin[np.arange(len(self.bins)), self.bins] = 1
        counts = leaves @ to_bin
        regions = np.asarray(self.regions)
        below = leaves[:, regions == _BELOW].sum(axis=1)
        above = leaves[:, regions == _ABOVE].sum(axis=1)
        bounds = self.binning.value_range if isinstance(self.binning, NumericBinning) else None
        return [
            Histogram(
                self.binning.labels,
                counts[w],
                int(table[w, 0]),
                unseen[w],
                below=int(below[w]),
                above=int(above[w]),
                value_range=bounds,
            )
            for w in range(table.shape[0])
        ]


def _numeric_index(target: Target, binning: NumericBinning) -> BinIndex:
    """The leaves between the splits ``x < c`` (each cut), ``x < low`` and ``x <= high``.

    A split ``(v, inclusive)`` is the test ``x <= v`` if inclusive, else ``x
    < v``; sorted by ``(v, inclusive)``, the tests of leaf ``j``'s values
    are false for the splits before ``j`` and true from ``j`` on, so its bin
    is the number of cuts among the splits before it (the bin rule
    ``c_{i-1} <= x < c_i``), it is below the range if ``x < low`` is still
    true and above it if ``x <= high`` is already false.
    """
    cuts = [float(c) for c in binning.cuts]
    bounds = binning.value_range
    splits = sorted({(c, False) for c in cuts} | (
        {(bounds[0], False), (bounds[1], True)} if bounds is not None else set()
    ))  # fmt: skip
    where = {split: i for i, split in enumerate(splits)}
    cut_positions = sorted(where[(c, False)] for c in cuts)
    bins = tuple(bisect.bisect_left(cut_positions, j) for j in range(len(splits) + 1))
    regions: list[int] = []
    for j in range(len(splits) + 1):
        if bounds is not None and where[(bounds[0], False)] >= j:
            regions.append(_BELOW)
        elif bounds is not None and where[(bounds[1], True)] < j:
            regions.append(_ABOVE)
        else:
            regions.append(_INSIDE)
    x = target.value

    def node(lo: int, hi: int) -> ColumnElement[int]:  # leaves lo..hi
        if lo == hi:
            return _int(lo)
        mid = (lo + hi) // 2
        value, inclusive = splits[mid]
        bound: ColumnElement[float] = sa.literal(value, sa.Double())
        test = x <= bound if inclusive else x < bound
        return sa.case((test, node(lo, mid)), else_=node(mid + 1, hi))

    expression = sa.case((target.is_missing, _int(-1)), else_=node(0, len(splits)))
    return BinIndex(target, binning, expression, bins, tuple(regions))


def _categorical_index(target: Target, binning: CategoricalBinning) -> BinIndex:
    """``-1`` if missing, ``i`` for the i-th kept category, ``k`` for any other value."""
    k = len(binning.categories)
    whens = [(target.value == c, _int(i)) for i, c in enumerate(binning.categories)]
    expression = sa.case((target.is_missing, _int(-1)), *whens, else_=_int(k))
    return BinIndex(target, binning, expression, tuple(range(k + 1)), (_INSIDE,) * (k + 1))


def bin_index(target: Target, binning: Binning) -> BinIndex:
    """The :class:`BinIndex` of a numeric or categorical feature.

    Raises
    ------
    TypeError
        For a binning that cannot be counted in SQL (text).
    """
    if isinstance(binning, NumericBinning):
        return _numeric_index(target, binning)
    if isinstance(binning, CategoricalBinning):
        return _categorical_index(target, binning)
    raise TypeError(f"{binning.kind} features cannot be binned in SQL; stream them instead.")


def groupable(dialect: str, targets: Sequence[tuple[Target, Binning]]) -> bool:
    """Whether ``targets`` are counted here on ``dialect`` (else by conditional sums).

    On the Spark dialects, for numeric and categorical binnings whose cuts
    do not decrease (the bin rule ``c_{i-1} <= x < c_i`` is then the
    number of cuts at or below ``x``, what the ``CASE`` tree computes).
    """
    if dialect not in GROUPED_DIALECTS or not targets:
        return False
    for _, binning in targets:
        if isinstance(binning, NumericBinning):
            if any(b < a for a, b in itertools.pairwise(binning.cuts)):
                return False
        elif not isinstance(binning, CategoricalBinning):
            return False
    return True


def blocks(cardinalities: Sequence[int], windows: int = 1) -> list[list[int]]:
    """Features (by position) packed into blocks grouped together.

    First fit, largest cardinality first: a feature joins the first block
    whose product of cardinalities stays at most ``MAX_BLOCK_GROUPS`` with
    it, and whose growth keeps ``windows * sum(block products)`` at most
    ``MAX_RESULT_ROWS``; else it starts a block of its own. Blocks, and the
    features in each, keep their order of ``cardinalities``.

    Examples
    --------
    >>> blocks([13, 14, 13, 14])
    [[0, 1, 3], [2]]
    >>> blocks([13, 14, 13, 14], windows=115)
    [[0], [1, 3], [2]]
    """
    order = sorted(range(len(cardinalities)), key=lambda i: -cardinalities[i])
    packed: list[list[int]] = []
    products: list[int] = []
    for i in order:
        c = cardinalities[i]
        for b, product in enumerate(products):
            grown = sum(products) - product + product * c
            if product * c <= MAX_BLOCK_GROUPS and windows * grown <= MAX_RESULT_ROWS:
                packed[b].append(i)
                products[b] *= c
                break
        else:
            packed.append([i])
            products.append(c)
    return sorted(sorted(b) for b in packed)


def _grouped_counts(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    indexes: Sequence[BinIndex],
    window: ColumnElement[Any] | None,
    windows: int,
) -> list[npt.NDArray[np.int64]]:
    """Per feature, its (windows x cardinality) table of index counts, missing first."""
    keys = [] if window is None else [window.label("w")]
    names = [f"b{i}" for i in range(len(indexes))]
    columns = [ix.expression.label(n) for ix, n in zip(indexes, names, strict=True)]
    binned = sa.select(*keys, *columns).select_from(source).where(where).subquery("binned")
    w = [binned.c.w] if window is not None else []
    packed = blocks([ix.cardinality for ix in indexes], windows)
    sets = [[*w, *(binned.c[names[i]] for i in block)] for block in packed]
    grouping = (
        sets[0] if len(sets) == 1 else [sa.func.grouping_sets(*(sa.tuple_(*s) for s in sets))]
    )
    query = sa.select(*w, *(binned.c[n] for n in names), sa.func.count()).group_by(*grouping)
    result = conn.execute(query).all()
    width = len(w) + len(names) + 1
    rows = np.asarray(result, dtype=np.float64).reshape(len(result), width)
    n = rows[:, -1].astype(np.int64)
    tables = [np.zeros((windows, ix.cardinality), dtype=np.int64) for ix in indexes]
    for block in packed:
        mine = ~np.isnan(rows[:, len(w) + block[0]])
        at = rows[mine, 0].astype(np.int64) if w else np.zeros(int(mine.sum()), dtype=np.int64)
        for i in block:
            leaf = rows[mine, len(w) + i].astype(np.int64) + 1
            np.add.at(tables[i], (at, leaf), n[mine])
    return tables


def count_bins(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    targets: Sequence[tuple[Target, Binning]],
    top_values: TopValues,
) -> tuple[int, dict[str, Histogram]]:
    """Row count and histograms of every target over the window, in one statement.

    What :func:`drift.sources.pushdown.count_bins` returns, counted by
    ``GROUP BY`` over the bin indexes (see the module docstring); the row
    count is the sum of any one block's groups. Categorical features whose
    "other" bin is not empty get their most frequent unseen values from
    ``top_values`` (the ranking of :func:`drift.sources.pushdown.top_values`).
    """
    indexes = [bin_index(t, b) for t, b in targets]
    tables = _grouped_counts(conn, source, where, indexes, None, 1)
    rows = int(tables[0].sum()) if tables else 0
    out: dict[str, Histogram] = {}
    for ix, table in zip(indexes, tables, strict=True):
        unseen: dict[str, int] = {}
        if isinstance(ix.binning, CategoricalBinning) and table[0, -1] > 0:
            unseen = top_values(conn, source, where, ix.target, ix.binning.categories, UNSEEN_KEEP)
        out[ix.target.name] = ix.histograms(table, [unseen])[0]
    return rows, out


def count_bins_by_window(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    index: ColumnElement[Any],
    windows: int,
    targets: Sequence[tuple[Target, Binning]],
    unseen_by_window: UnseenByWindow,
) -> list[dict[str, Histogram]]:
    """Histograms of every target in each of ``windows`` windows, one statement.

    What :func:`drift.sources.windowed.count_bins_by_window` returns: the
    window index ``index`` (``0 <= index < windows``, see
    :func:`drift.sources.windowed.window_index`) is one more grouping key of
    every set; windows without rows get histograms of zeros. The unseen
    values of a categorical feature with a non-empty "other" bin in some
    window come from ``unseen_by_window`` (one ranked query per feature).
    """
    indexes = [bin_index(t, b) for t, b in targets]
    tables = _grouped_counts(conn, source, where, indexes, index, windows)
    hists: list[dict[str, Histogram]] = [{} for _ in range(windows)]
    for ix, table in zip(indexes, tables, strict=True):
        unseen: list[dict[str, int]] = [{} for _ in range(windows)]
        if isinstance(ix.binning, CategoricalBinning) and bool(np.any(table[:, -1] > 0)):
            unseen = unseen_by_window(
                conn, source, index, where, windows, ix.target, ix.binning.categories
            )
        for w, hist in enumerate(ix.histograms(table, unseen)):
            hists[w][ix.target.name] = hist
    return hists
