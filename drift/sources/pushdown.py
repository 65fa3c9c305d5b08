"""Bin counts computed by the database: conditional aggregation, no rows moved.

A numeric feature with ``k`` bins costs ``k - 1`` comparisons a row: the
query counts the values below each cut (``x < c_i``) and the bins are the
differences of those running counts. That is the same partition as the
per-bin conditions of :func:`drift.sources.predicates.numeric_bins` (NULL
and NaN are below no cut, a NaN is never in a bin), at a third of the work
of testing ``c_{i-1} <= x < c_i`` and "not missing" for every bin.
A numeric binning that knows the reference range adds two counts, of the
non-missing values below its minimum and above its maximum
(:func:`drift.sources.predicates.outside_range`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.sources import grouped_counts
from drift.sources.predicates import Target, bin_conditions, outside_range
from drift.stats.binning import Binning, CategoricalBinning, NumericBinning
from drift.stats.histogram import UNSEEN_KEEP, Histogram

#: Most aggregate columns put in one SELECT (PostgreSQL allows 1664, SQLite 2000).
MAX_COLUMNS = 1000


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _chunks(items: Sequence[ColumnElement[Any]], size: int) -> Iterator[list[ColumnElement[Any]]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def run_aggregates(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    aggregates: Sequence[ColumnElement[Any]],
) -> list[Any]:
    """Evaluate ``aggregates`` over the window: one query, or a few if very many."""
    values: list[Any] = []
    for chunk in _chunks(aggregates, MAX_COLUMNS):
        values.extend(conn.execute(sa.select(*chunk).select_from(source).where(where)).one())
    return values


def _cumulative(binning: Binning) -> bool:
    cuts = binning.cuts if isinstance(binning, NumericBinning) else ()
    return isinstance(binning, NumericBinning) and all(a < b for a, b in itertools.pairwise(cuts))


@dataclass(frozen=True, slots=True)
class BinLayout:
    """Where one feature's aggregates sit in a row of counts, and how to read them.

    The aggregates of a feature are its missing count, then either one count
    per bin or, for numeric bins with increasing cuts, the running counts
    ``#(x < c_i)`` (see the module docstring); ``width`` of them. A numeric
    binning with a reference range (``ranged``) is followed by two more:
    the values below and above it.
    """

    target: Target
    binning: Binning
    position: int
    width: int
    cumulative: bool
    ranged: bool = False

    def histogram(
        self,
        counts: npt.NDArray[np.int64],
        missing_count: int,
        unseen: dict[str, int],
        outside: Sequence[int] = (0, 0),
    ) -> Histogram:
        """The histogram of one window from its decoded counts."""
        bounds = self.binning.value_range if isinstance(self.binning, NumericBinning) else None
        below, above = (int(outside[0]), int(outside[1])) if self.ranged else (0, 0)
        return Histogram(
            self.binning.labels,
            counts,
            missing_count,
            unseen,
            below=below,
            above=above,
            value_range=bounds,
        )

    def outside(self, values: Sequence[int]) -> tuple[int, int]:
        """Values below and above the reference range, from a row of sums."""
        if not self.ranged:
            return 0, 0
        end = self.position + self.width
        return int(values[end]), int(values[end + 1])

    def outside_rows(self, table: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """:meth:`outside` for every row of ``table``: a ``(rows, 2)`` array."""
        if not self.ranged:
            return np.zeros((table.shape[0], 2), dtype=np.int64)
        end = self.position + self.width
        return table[:, end : end + 2]

    def decode(self, rows: int, values: Sequence[int]) -> tuple[npt.NDArray[np.int64], int]:
        """Bin counts and missing count from ``values`` (a row of all features' sums)."""
        missing_count = int(values[self.position])
        raw = np.asarray(values[self.position + 1 : self.position + self.width], dtype=np.int64)
        if not self.cumulative:
            return raw, missing_count
        below = np.concatenate([[0], raw, [rows - missing_count]]).astype(np.int64)
        return np.diff(below), missing_count

    def decode_rows(
        self, table: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """:meth:`decode` for every row of ``table`` (row count in column 0): counts, missing."""
        missing_counts = table[:, self.position]
        raw = table[:, self.position + 1 : self.position + self.width]
        if not self.cumulative:
            return raw, missing_counts
        zeros = np.zeros((table.shape[0], 1), dtype=np.int64)
        present = (table[:, 0] - missing_counts)[:, None]
        return np.diff(np.hstack([zeros, raw, present]), axis=1), missing_counts


def bin_aggregates(
    targets: Sequence[tuple[Target, Binning]], first: int = 0
) -> tuple[list[ColumnElement[Any]], list[BinLayout]]:
    """The ``SUM(CASE ...)`` aggregates counting every target, and their layouts.

    ``first`` is the column position of the first aggregate in the caller's row.
    """
    aggregates: list[ColumnElement[Any]] = []
    layouts: list[BinLayout] = []
    for target, binning in targets:
        cumulative = _cumulative(binning)
        if cumulative:
            assert isinstance(binning, NumericBinning)
            cuts: list[ColumnElement[float]] = [
                sa.literal(float(c), sa.Double()) for c in binning.cuts
            ]
            conditions = [target.value < c for c in cuts]
        else:
            conditions = bin_conditions(target, binning)
        position = first + len(aggregates)
        aggregates.append(_count_if(target.is_missing))
        aggregates.extend(_count_if(c) for c in conditions)
        outside = outside_range(target, binning)
        aggregates.extend(_count_if(c) for c in outside)
        width = 1 + len(conditions)
        layouts.append(BinLayout(target, binning, position, width, cumulative, bool(outside)))
    return aggregates, layouts


def count_bins(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    targets: Sequence[tuple[Target, Binning]],
) -> tuple[int, dict[str, Histogram]]:
    """Row count and histograms of every target over the window, in one query.

    Each feature contributes ``SUM(CASE WHEN <condition> THEN 1 ELSE 0 END)``
    for its missing values and per bin (per cut for numeric features, plus
    the values outside the reference range);
    categorical features whose "other" bin is not empty get a second small
    query naming the most frequent unseen values.
    On Spark, :func:`drift.sources.grouped_counts.count_bins` instead.
    """
    if grouped_counts.groupable(conn.dialect.name, targets):
        return grouped_counts.count_bins(conn, source, where, targets, top_values)
    aggregates, layouts = bin_aggregates(targets, first=1)
    values = [
        int(v or 0) for v in run_aggregates(conn, source, where, [sa.func.count(), *aggregates])
    ]
    rows = values[0]
    out: dict[str, Histogram] = {}
    for layout in layouts:
        counts, missing_count = layout.decode(rows, values)
        target, binning = layout.target, layout.binning
        unseen: dict[str, int] = {}
        if isinstance(binning, CategoricalBinning) and counts[-1] > 0:
            unseen = top_values(conn, source, where, target, binning.categories, UNSEEN_KEEP)
        out[target.name] = layout.histogram(counts, missing_count, unseen, layout.outside(values))
    return rows, out


def top_values(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    target: Target,
    exclude: Sequence[str],
    limit: int,
) -> dict[str, int]:
    """The ``limit`` most frequent non-missing values not in ``exclude``.

    Ordered by count descending, then by value in byte order (the dialect's
    binary collation), which is Python's string order: fit, unseen values and
    the streaming fallback break ties the same way.
    """
    count = sa.func.count()
    condition = sa.and_(where, sa.not_(target.is_missing))
    if exclude:
        condition = sa.and_(condition, target.value.not_in(list(exclude)))
    query = (
        sa.select(target.value, count)
        .select_from(source)
        .where(condition)
        .group_by(target.value)
        .order_by(count.desc(), target.value)
        .limit(limit)
    )
    return {str(value): int(n) for value, n in conn.execute(query)}
