"""Numeric cut points fitted by the database.

Definition: the cut for probability ``i / bins`` is the order statistic at
1-based position ``ceil(i * n / bins)`` (at least 1) of the ``n`` finite
values in the reference, i.e. ``percentile_disc`` / the inverse of the
empirical CDF, which is ``numpy.quantile(values, i / bins,
method="inverted_cdf")``. Positions are computed in exact integer arithmetic
here, so every dialect picks the same rows: PostgreSQL and DuckDB through
``percentile_disc(p) WITHIN GROUP (ORDER BY x)``, MariaDB through
``PERCENTILE_DISC(p) WITHIN GROUP (ORDER BY x) OVER ()``, SQLite and any other
dialect through ``ROW_NUMBER() OVER (ORDER BY x)``. The fraction handed to the
percentile functions is ``(position - 0.5) / n``, whose ``ceil(p * n)`` is
the position whatever the floating-point rounding.

The cuts are actual values of the reference, deduplicated (ties and constant
columns give fewer bins). NULL, NaN and +/-inf take no part in the fit. The
same first query gives the finite minimum and maximum, which every binning
keeps as the reference range (``NumericBinning.low``/``high``), fixed
``edges`` included, as :func:`drift.stats.fitting.fit_numeric` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.sources.dialects import Dialect
from drift.sources.predicates import finite
from drift.sources.pushdown import run_aggregates
from drift.stats.binning import NumericBinning


@dataclass(frozen=True, slots=True)
class NumericFit:
    """What to fit for one numeric feature."""

    name: str
    column: ColumnElement[Any]
    bins: int
    strategy: str
    edges: tuple[float, ...] | None = None


def positions(n: int, bins: int) -> list[int]:
    """1-based order statistics ``ceil(i * n / bins)`` for ``i = 1 .. bins - 1``.

    Examples
    --------
    >>> positions(10, 4)
    [3, 5, 8]
    >>> positions(2, 4)
    [1, 2]
    """
    return sorted({max(1, (i * n + bins - 1) // bins) for i in range(1, bins)})


def _unique(values: Sequence[Any]) -> tuple[float, ...]:
    return tuple(sorted({float(v) for v in values if v is not None}))


def fit_binnings(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    fits: Sequence[NumericFit],
    dialect: Dialect,
) -> dict[str, NumericBinning]:
    """The binning of every feature in ``fits`` over the window, with its range.

    ``quantile`` features get equal-count cuts (definition in the module
    docstring), ``uniform`` ones ``bins - 1`` equally spaced cuts between the
    finite minimum and maximum, and features with ``edges`` those edges. An
    empty or constant reference gives no uniform cut and one quantile cut at
    most. Every binning keeps the finite minimum and maximum as ``low`` and
    ``high`` (``None`` for a reference without a finite value).
    """
    aggregates: list[ColumnElement[Any]] = []
    for fit in fits:
        ok = finite(fit.column, dialect)
        kept = sa.case((ok, fit.column))
        aggregates += [sa.func.sum(sa.case((ok, 1), else_=0)), sa.func.min(kept), sa.func.max(kept)]
    stats = run_aggregates(conn, source, where, aggregates)
    cuts: dict[str, tuple[float, ...]] = {}
    ranges: dict[str, tuple[float, float] | None] = {}
    wanted: list[tuple[NumericFit, int, list[int]]] = []
    for i, fit in enumerate(fits):
        n, lo, hi = int(stats[3 * i] or 0), stats[3 * i + 1], stats[3 * i + 2]
        ranges[fit.name] = (float(lo), float(hi)) if n else None
        if fit.edges is not None:
            cuts[fit.name] = tuple(float(e) for e in fit.edges)
        elif n == 0:
            cuts[fit.name] = ()
        elif fit.strategy == "uniform":
            low, high = float(lo), float(hi)
            step = (high - low) / fit.bins
            cuts[fit.name] = _unique([low + step * j for j in range(1, fit.bins)]) if step else ()
        else:
            wanted.append((fit, n, positions(n, fit.bins)))
    if wanted:
        cuts.update(_order_statistics(conn, source, where, wanted, dialect))
    out: dict[str, NumericBinning] = {}
    for fit in fits:
        bounds = ranges[fit.name]
        out[fit.name] = NumericBinning(
            cuts[fit.name],
            low=None if bounds is None else bounds[0],
            high=None if bounds is None else bounds[1],
        )
    return out


def _order_statistics(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    wanted: Sequence[tuple[NumericFit, int, list[int]]],
    dialect: Dialect,
) -> dict[str, tuple[float, ...]]:
    if dialect.percentile == "row_number":
        return {
            fit.name: _by_row_number(conn, source, where, fit, dialect, pos)
            for fit, _, pos in wanted
        }
    aggregates: list[ColumnElement[Any]] = []
    for fit, n, pos in wanted:
        # percentile_disc ignores NULLs, so non-finite values are mapped to NULL.
        ordered = sa.case((finite(fit.column, dialect), fit.column))
        for p in pos:
            fraction: ColumnElement[float] = sa.literal((p - 0.5) / n, sa.Double())
            percentile = sa.func.percentile_disc(fraction).within_group(ordered)
            aggregates.append(percentile.over() if dialect.percentile == "window" else percentile)
    if dialect.percentile == "window":
        row = conn.execute(sa.select(*aggregates).select_from(source).where(where).limit(1)).one()
        values = list(row)
    else:
        values = run_aggregates(conn, source, where, aggregates)
    out: dict[str, tuple[float, ...]] = {}
    start = 0
    for fit, _, pos in wanted:
        out[fit.name] = _unique(values[start : start + len(pos)])
        start += len(pos)
    return out


def _by_row_number(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    fit: NumericFit,
    dialect: Dialect,
    pos: list[int],
) -> tuple[float, ...]:
    ranked = (
        sa.select(
            fit.column.label("x"),
            sa.func.row_number().over(order_by=fit.column).label("rn"),
        )
        .select_from(source)
        .where(sa.and_(where, finite(fit.column, dialect)))
        .subquery("ranked")
    )
    query = sa.select(ranked.c.x).where(ranked.c.rn.in_(pos))
    return _unique(conn.execute(query).scalars().all())
