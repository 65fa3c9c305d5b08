"""Bin counts on Spark SQL by ``GROUP BY`` over per-feature bin indexes.

:func:`drift.sources.pushdown.count_bins` counts with one conditional sum per
bin (``SUM(CASE WHEN ... THEN 1 ELSE 0 END)``), about 27 aggregates a row for
a 10-bin numeric and a 12-category feature. On Spark that shape costs about
twice what a ``GROUP BY`` does (bench/RESULTS.md, "Spark (issue 17)"), so on
the Spark dialects each feature gets one integer bin index instead (see
:mod:`drift.sources.bin_index`: ``-1`` for missing, else a leaf of a ``CASE``
tree over the cuts or of a ``CASE WHEN`` over the kept categories) and the
rows are grouped by the indexes, in one statement a window (Spark reads are
not snapshot-isolated, so a window's counts must come from one read)::

    SELECT [w,] <code> AS code, count(*) AS n
    FROM (SELECT [<window index> AS w,] <index 0> AS b0, ... FROM t WHERE <window>) AS binned
    GROUP BY [w,] b0, b1, ...                                    -- one block
    GROUP BY GROUPING SETS (([w,] b0, b1), ([w,] b2), ...)       -- several blocks
    [UNION ALL SELECT ... the next part ...]

- A *block* is features grouped together: the product of their index
  cardinalities is at most ``MAX_BLOCK_GROUPS``, and all blocks' groups
  times the windows at most ``MAX_RESULT_ROWS`` (more groups cost more than
  the rows Spark expands once per grouping set). A row's ``code`` packs its
  block's indexes, ``offset + sum((b_i + 1) * prod(later cardinalities))``,
  the blocks' code ranges disjoint; it is ``coalesce`` of the blocks' codes,
  since the other sets' columns are NULL in a row (an index never is).
- A *part* is features whose indexes have at most ``MAX_PART_LEAVES``
  leaves in all: Spark compiles one part's row loop into one Java method,
  and past about 8000 bytes of bytecode (about 105 numeric leaves) HotSpot
  no longer JIT-compiles it, which made 20 features 1.2-1.7x slower than
  conditional sums (measured). Parts are ``UNION ALL`` branches of the one
  statement, each reading only its own columns; their row counts must
  agree.

A feature's histogram is the marginal sum of its block's groups.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.errors import SourceError
from drift.sources.bin_index import BinIndex, bin_index
from drift.sources.predicates import Target
from drift.sources.spark import SPARK_DIALECTS
from drift.stats.binning import Binning, CategoricalBinning, NumericBinning
from drift.stats.histogram import UNSEEN_KEEP, Histogram

__all__ = [
    "GROUPED_DIALECTS",
    "MAX_BLOCK_GROUPS",
    "MAX_PART_LEAVES",
    "MAX_RESULT_ROWS",
    "blocks",
    "count_bins",
    "count_bins_by_window",
    "groupable",
    "parts",
]

#: Dialects whose bins are counted here (the others use conditional sums).
GROUPED_DIALECTS = SPARK_DIALECTS
#: Most index combinations (product of cardinalities) one block of features may have.
MAX_BLOCK_GROUPS = 4096
#: Most leaves (summed over its features) of one part, so its code stays JIT-compiled.
MAX_PART_LEAVES = 100
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


def blocks(
    cardinalities: Sequence[int], windows: int = 1, spare: int | None = None
) -> list[list[int]]:
    """Features (by position) packed into blocks grouped together.

    First fit, largest cardinality first: a feature joins the first block
    whose product of cardinalities stays at most ``MAX_BLOCK_GROUPS`` with
    it, and only while ``windows`` times the groups merging adds stay
    within ``spare`` (default: ``MAX_RESULT_ROWS`` less ``windows`` times
    the features' own cardinalities); else it starts a block of its own.
    Blocks, and the features in each, keep their order of ``cardinalities``.

    Examples
    --------
    >>> blocks([13, 14, 13, 14])
    [[0, 1, 3], [2]]
    >>> blocks([13, 14, 13, 14], windows=115)
    [[0], [1, 3], [2]]
    """
    if spare is None:
        spare = MAX_RESULT_ROWS - windows * sum(cardinalities)
    order = sorted(range(len(cardinalities)), key=lambda i: -cardinalities[i])
    packed: list[list[int]] = []
    products: list[int] = []
    for i in order:
        c = cardinalities[i]
        for b, product in enumerate(products):
            added = windows * (product * c - product - c)
            if product * c <= MAX_BLOCK_GROUPS and added <= spare:
                packed[b].append(i)
                products[b] *= c
                spare -= added
                break
        else:
            packed.append([i])
            products.append(c)
    return sorted(sorted(b) for b in packed)


def parts(leaves: Sequence[int]) -> list[list[int]]:
    """Features (by position, in order) split into parts of at most ``MAX_PART_LEAVES`` leaves.

    A feature with more leaves than that is a part of its own.

    Examples
    --------
    >>> parts([12] * 9)
    [[0, 1, 2, 3, 4, 5, 6, 7], [8]]
    """
    out: list[list[int]] = []
    size = 0
    for i, n in enumerate(leaves):
        if not out or size + n > MAX_PART_LEAVES:
            out.append([])
            size = 0
        out[-1].append(i)
        size += n
    return out


@dataclass(frozen=True, slots=True)
class _Block:
    """Features grouped together, their codes ``offset <= code < offset + size``."""

    features: tuple[int, ...]
    cardinalities: tuple[int, ...]
    offset: int

    @property
    def size(self) -> int:
        return math.prod(self.cardinalities)

    def code(self, columns: Sequence[ColumnElement[int]]) -> ColumnElement[int]:
        """``offset + sum((b_i + 1) * prod(later cardinalities))``; NULL outside its set."""
        code: ColumnElement[int] = columns[0] + 1
        for column, cardinality in zip(columns[1:], self.cardinalities[1:], strict=True):
            code = code * cardinality + (column + 1)
        return code + self.offset if self.offset else code

    def decode(self, codes: npt.NDArray[np.int64]) -> list[npt.NDArray[np.int64]]:
        """The column of index values ``b_i + 1`` of each feature, for codes of this block."""
        rest = codes - self.offset
        out: list[npt.NDArray[np.int64]] = []
        for cardinality in reversed(self.cardinalities):
            rest, value = np.divmod(rest, cardinality)
            out.append(value)
        return out[::-1]


def _part_query(
    source: sa.FromClause,
    where: ColumnElement[bool],
    indexes: Sequence[BinIndex],
    part: Sequence[int],
    window: ColumnElement[Any] | None,
    windows: int,
    offset: int,
    spare: int,
) -> tuple[sa.Select[Any], list[_Block]]:
    """One part's grouped ``SELECT [w,] code, n`` and its blocks (codes from ``offset`` on).

    A row's ``code`` is the first non-NULL of the blocks' codes: the one of
    its grouping set (the other sets' columns are NULL in it).
    """
    keys = [] if window is None else [window.label("w")]
    columns = [indexes[i].expression.label(f"b{i}") for i in part]
    binned = sa.select(*keys, *columns).select_from(source).where(where).subquery("binned")
    w = [binned.c.w] if window is not None else []
    packed: list[_Block] = []
    for block in blocks([indexes[i].cardinality for i in part], windows, spare):
        features = tuple(part[j] for j in block)
        cards = tuple(indexes[i].cardinality for i in features)
        packed.append(_Block(features, cards, offset))
        offset += packed[-1].size
    sets = [[*w, *(binned.c[f"b{i}"] for i in b.features)] for b in packed]
    grouping = (
        sets[0] if len(sets) == 1 else [sa.func.grouping_sets(*(sa.tuple_(*s) for s in sets))]
    )
    codes = [b.code([binned.c[f"b{i}"] for i in b.features]) for b in packed]
    code = codes[0] if len(codes) == 1 else sa.func.coalesce(*codes)
    query = sa.select(*w, code.label("code"), sa.func.count().label("n")).group_by(*grouping)
    return query, packed


def _grouped_counts(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    indexes: Sequence[BinIndex],
    window: ColumnElement[Any] | None,
    windows: int,
) -> list[npt.NDArray[np.int64]]:
    """Per feature, its (windows x cardinality) table of index counts, missing first.

    One statement: the ``UNION ALL`` of the parts' grouped selects (see
    :data:`MAX_PART_LEAVES`), each row a window, a block's code and a count;
    every part counts every row of the window, so their row counts must agree.

    Raises
    ------
    drift.errors.SourceError
        If the parts counted different rows: the table changed while the
        statement read it (Spark reads are not snapshot-isolated); a retry
        reads it again.
    """
    split = parts([len(ix.bins) for ix in indexes])
    queries: list[sa.Select[Any]] = []
    packed: list[_Block] = []
    spare = MAX_RESULT_ROWS - windows * sum(ix.cardinality for ix in indexes)
    for part in split:
        offset = packed[-1].offset + packed[-1].size if packed else 0
        query, more = _part_query(source, where, indexes, part, window, windows, offset, spare)
        spare -= windows * sum(b.size - sum(b.cardinalities) for b in more)
        queries.append(query)
        packed.extend(more)
    statement = queries[0] if len(queries) == 1 else sa.union_all(*queries)
    w = 0 if window is None else 1
    # Flattened first: numpy probing 16k SQLAlchemy rows for array protocols cost 0.8 s.
    cells = list(itertools.chain.from_iterable(conn.execute(statement)))
    result = np.asarray(cells, dtype=np.int64).reshape(-1, w + 2)
    at, code, n = (
        (result[:, 0] if w else np.zeros(len(result), np.int64)),
        result[:, w],
        result[:, w + 1],
    )
    tables = [np.zeros((windows, ix.cardinality), dtype=np.int64) for ix in indexes]
    for block in packed:
        mine = (code >= block.offset) & (code < block.offset + block.size)
        for i, leaf in zip(block.features, block.decode(code[mine]), strict=True):
            np.add.at(tables[i], (at[mine], leaf), n[mine])
    totals = {tuple(tables[part[0]].sum(axis=1)) for part in split}
    if len(totals) > 1:
        raise SourceError(
            "the table changed while its window was counted (Spark reads are not "
            "snapshot-isolated): the parts of one statement saw different rows; run it again"
        )
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
