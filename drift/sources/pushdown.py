"""Bin counts computed by the database: conditional aggregation, no rows moved."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.sources.predicates import Target, bin_conditions
from drift.stats.binning import Binning, CategoricalBinning
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


def count_bins(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    targets: Sequence[tuple[Target, Binning]],
) -> tuple[int, dict[str, Histogram]]:
    """Row count and histograms of every target over the window, in one query.

    Each feature contributes ``SUM(CASE WHEN <bin condition> THEN 1 ELSE 0 END)``
    per bin and one for its missing values; categorical features whose
    "other" bin is not empty get a second small query naming the most
    frequent unseen values.
    """
    aggregates: list[ColumnElement[Any]] = [sa.func.count()]
    layout: list[tuple[Target, Binning, int]] = []
    for target, binning in targets:
        conditions = bin_conditions(target, binning)
        layout.append((target, binning, len(conditions)))
        aggregates.extend(_count_if(c) for c in conditions)
        aggregates.append(_count_if(target.is_missing))
    values = [int(v or 0) for v in run_aggregates(conn, source, where, aggregates)]
    rows, position = values[0], 1
    out: dict[str, Histogram] = {}
    for target, binning, k in layout:
        counts = np.asarray(values[position : position + k], dtype=np.int64)
        missing_count = values[position + k]
        position += k + 1
        unseen: dict[str, int] = {}
        if isinstance(binning, CategoricalBinning) and counts[-1] > 0:
            unseen = top_values(conn, source, where, target, binning.categories, UNSEEN_KEEP)
        out[target.name] = Histogram(binning.labels, counts, missing_count, unseen)
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
