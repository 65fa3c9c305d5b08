"""Score grids for dashboards: series x time buckets, aggregated in SQL.

Shared by :mod:`drift.store.summaries` (features, metrics) and
:mod:`drift.store.segments` (segments): each query returns rows of (series,
window end, window start, headline value, severity rank, run id), which
:func:`to_grid` makes into a dense :class:`Bucketed`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from drift.sql.timekeys import EpochMicros, WindowIndex
from drift.store.convert import from_db_time, to_db_time

__all__ = [
    "SEVERITY_BY_RANK",
    "SEVERITY_RANK",
    "Bucketed",
    "bucket",
    "bucket_width",
    "headline",
    "reorder",
    "severity_rank",
    "to_grid",
]

#: Severities from least to most severe, as ranked in SQL (``max`` picks the worst).
SEVERITY_RANK = {"insufficient_data": 0, "ok": 1, "warn": 2, "critical": 3}
_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Bucketed:
    """Values of one or more series over time buckets (a heatmap or a chart).

    Attributes
    ----------
    names : tuple of str
        The series (features of a heatmap, metrics of one feature's chart).
    ends : tuple of datetime
        Each bucket's last window end (UTC), oldest first.
    starts : tuple of datetime
        Each bucket's first window start (UTC): where charts place a column,
        as pages name a window by its start.
    values : tuple of tuple of float or None
        ``values[i][j]``: the largest value of series ``names[i]`` in bucket
        ``j`` (``None``: no finite value there).
    severities : tuple of tuple of str or None
        The worst severity of the same cells.
    run_ids : tuple of tuple of int or None
        The run behind each cell when buckets hold one window each (``width``
        is ``None``); ``None`` in bucketed results.
    width : timedelta or None
        The bucket width, or ``None`` when every window is its own bucket.
    """

    names: tuple[str, ...]
    ends: tuple[datetime, ...]
    starts: tuple[datetime, ...]
    values: tuple[tuple[float | None, ...], ...]
    severities: tuple[tuple[str | None, ...], ...]
    run_ids: tuple[tuple[int | None, ...], ...]
    width: timedelta | None


def headline(s: sa.Table) -> sa.ColumnElement[Any]:
    """The value a chart shows: the bias-corrected KL where stored, else the value."""
    return sa.func.coalesce(s.c.value_corrected, s.c.value)


def severity_rank(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A severity column as its rank (SQL ``CASE``), so ``max`` picks the worst."""
    return sa.case(*((column == name, rank) for name, rank in SEVERITY_RANK.items()), else_=0)


#: Severity names by rank (the inverse of :data:`SEVERITY_RANK`).
SEVERITY_BY_RANK = {rank: name for name, rank in SEVERITY_RANK.items()}


def bucket_width(start: datetime, end: datetime, windows: int, limit: int) -> timedelta | None:
    """The bucket width that keeps ``windows`` windows of ``(start, end]`` within ``limit``.

    ``None`` when they fit as they are; else a whole number of hours (at
    least one) so that ``(end - start) / width <= limit``.
    """
    if windows <= limit:
        return None
    seconds = (end - start).total_seconds()
    hours = max(1, math.ceil(seconds / limit / 3600))
    return timedelta(hours=hours)


def bucket(
    column: sa.ColumnElement[Any], start: datetime, width: timedelta
) -> sa.ColumnElement[Any]:
    """The bucket of a window end: ``k`` for ends in ``(start + k*width, start + (k+1)*width]``.

    A window that ends on a bucket's edge belongs to the bucket it closes, so
    the index is taken one microsecond before the end. Origin and width are
    integers computed here, written as literals.
    """
    origin = ((to_db_time(start) or _EPOCH) - _EPOCH) // timedelta(microseconds=1)
    return WindowIndex(
        EpochMicros(column),
        sa.literal_column(str(origin + 1)),
        sa.literal_column(str(width // timedelta(microseconds=1))),
    )


def to_grid(rows: Any, width: timedelta | None) -> Bucketed:
    """Rows of (series, end, start, value, severity rank, run id) as a dense grid."""
    names = sorted({row[0] for row in rows})
    ends = sorted({row[1] for row in rows})
    starts: dict[Any, Any] = {}
    for row in rows:
        starts[row[1]] = row[2] if row[1] not in starts else min(starts[row[1]], row[2])
    column = {end: j for j, end in enumerate(ends)}
    index = {name: i for i, name in enumerate(names)}
    values: list[list[float | None]] = [[None] * len(ends) for _ in names]
    severities: list[list[str | None]] = [[None] * len(ends) for _ in names]
    run_ids: list[list[int | None]] = [[None] * len(ends) for _ in names]
    for name, end, _start, value, rank, run_id in rows:
        i, j = index[name], column[end]
        if value is not None and math.isfinite(float(value)):
            values[i][j] = float(value)
        if rank is not None:
            severities[i][j] = SEVERITY_BY_RANK.get(int(rank))
        if run_id is not None:
            run_ids[i][j] = int(run_id)
    return Bucketed(
        names=tuple(names),
        ends=tuple(e for e in (from_db_time(x) for x in ends) if e is not None),
        starts=tuple(e for e in (from_db_time(starts[x]) for x in ends) if e is not None),
        values=tuple(tuple(v) for v in values),
        severities=tuple(tuple(v) for v in severities),
        run_ids=tuple(tuple(v) for v in run_ids),
        width=width,
    )


def reorder(grid: Bucketed, names: Sequence[str]) -> Bucketed:
    """``grid`` with its series in the order of ``names`` (each one of ``grid.names``)."""
    at = [grid.names.index(name) for name in names]
    return replace(
        grid,
        names=tuple(names),
        values=tuple(grid.values[i] for i in at),
        severities=tuple(grid.severities[i] for i in at),
        run_ids=tuple(grid.run_ids[i] for i in at),
    )
