"""Bin counts of many consecutive windows in one pass: ``GROUP BY`` window index.

A backfill measures every window of a range. Instead of one query per
window, each row's window index is computed in SQL and the bin counts of
:mod:`drift.sources.pushdown` are grouped by it, so the range is read once.

Two ways to compute the index:

- Windows of one fixed length (``window: 1d``): integer arithmetic,
  ``(epoch_micros(ts) - origin) / length``, with :class:`EpochMicros`
  compiled per dialect to the exact integer microseconds since the Unix
  epoch of the same timestamp the window filter compares (UTC for naive
  columns). PostgreSQL: ``date_part('epoch', ts)`` (float8, exact to the
  microsecond after rounding for bounds in years 1827 to 2112);
  DuckDB: ``epoch_us(ts)``; MariaDB/MySQL: ``TIMESTAMPDIFF(MICROSECOND,
  '1970-01-01', ts)``, which unlike ``UNIX_TIMESTAMP`` does not depend on the
  session time zone; SQLite: ``julianday`` (which the window filter also
  compares) rounded to its exact integer milliseconds.
  On PostgreSQL 14 and later, for ``timestamp``/``timestamptz`` columns,
  :class:`WindowStart` instead: ``date_bin(length, ts, origin)``, the start
  of the row's window, joined to the window starts computed from
  ``generate_series(0, n - 1)``; cheaper per row than ``date_part``. For
  timestamptz ``date_bin`` counts in absolute time; naive columns hold UTC
  (as the window filter assumes) and get a naive origin, so the bins fall
  exactly on the filter's bounds either way. The length is written as an
  ``HH:MM:SS.ffffff`` interval (no days), which PostgreSQL adds in absolute
  time whatever the session time zone.
- Anything else (cron schedules with windows of different lengths,
  timestamps stored as epoch numbers, other dialects): a balanced tree of
  ``CASE WHEN ts >= bound`` built from the very comparisons of the window
  filter, about ``log2(n)`` comparisons a row, exact by construction.

The counts outside a numeric feature's reference range are two more
aggregates of the same query. Windows without rows get histograms of zeros;
each window equals what :func:`drift.sources.pushdown.count_bins` gives for
it alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from drift.sources import grouped_counts
from drift.sources.dialects import Dialect
from drift.sources.predicates import Target
from drift.sources.pushdown import MAX_COLUMNS, bin_aggregates
from drift.sources.relation import TimestampStyle, window_clause
from drift.sql.timekeys import EpochMicros, WindowIndex
from drift.stats.binning import Binning, CategoricalBinning
from drift.stats.histogram import UNSEEN_KEEP, Histogram

__all__ = [
    "EpochMicros",
    "WindowIndex",
    "WindowStart",
    "arithmetic_index",
    "count_bins_by_window",
    "date_bin_supported",
    "unseen_by_window",
    "window_index",
    "windows_per_query",
]

#: Most result cells (windows x aggregates) one grouped query may return.
MAX_CELLS = 2_000_000
#: Most windows one ``CASE`` tree covers (its SQL grows with the windows).
MAX_CASE_WINDOWS = 1024
#: Window bounds (microseconds from the epoch) within which EpochMicros is exact.
EXACT_MICROS = 2**52
#: Dialects :class:`EpochMicros` compiles for.
ARITHMETIC_DIALECTS = frozenset(
    {"postgresql", "duckdb", "sqlite", "mariadb", "mysql", "hive", "databricks"}
)
#: First PostgreSQL version with ``date_bin()``.
DATE_BIN_SINCE = (14,)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# GROUP BY the first output column: bound parameters inside the index expression
# would make a repeated GROUP BY expression differ from the SELECT's on PostgreSQL.
_FIRST: ColumnElement[Any] = sa.literal_column("1")


class WindowStart(FunctionElement[datetime]):
    """PostgreSQL ``date_bin(length, ts, origin)``: the start of a row's window.

    Arguments: the timestamp expression, then the length (an ``INTERVAL``
    literal of microseconds only) and the origin (a timestamp literal of
    the timestamp's own type), both built here, never user input.
    """

    name = "window_start"
    inherit_cache = True


class SeriesStart(FunctionElement[datetime]):
    """``origin + i * length``: the start of window ``i`` (PostgreSQL)."""

    name = "series_start"
    inherit_cache = True


@compiles(WindowStart)
@compiles(SeriesStart)
def _start_default(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    raise sa.exc.CompileError(f"no date_bin for dialect {compiler.dialect.name!r}")


@compiles(WindowStart, "postgresql")
def _start_postgresql(element: WindowStart, compiler: SQLCompiler, **kw: Any) -> str:
    value, length, origin = (compiler.process(c, **kw) for c in element.clauses)
    return f"date_bin({length}, {value}, {origin})"


@compiles(SeriesStart, "postgresql")
def _series_start_postgresql(element: SeriesStart, compiler: SQLCompiler, **kw: Any) -> str:
    # interval * float8 is exact here: |i * length| < 2**53 microseconds
    # (the bounds are within EXACT_MICROS of the epoch, see arithmetic_index).
    index, length, origin = (compiler.process(c, **kw) for c in element.clauses)
    return f"({origin} + {index} * {length})"


def _micros(value: datetime | timedelta) -> int:
    delta = value - _EPOCH if isinstance(value, datetime) else value
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _regular(bounds: Sequence[datetime]) -> timedelta | None:
    steps = {b - a for a, b in itertools.pairwise(bounds)}
    return steps.pop() if len(steps) == 1 else None


def date_bin_supported(conn: sa.Connection) -> bool:
    """Whether the connected server has ``date_bin()`` (PostgreSQL 14 or later)."""
    if conn.dialect.name != "postgresql":
        return False
    version = conn.dialect.server_version_info
    return version is not None and tuple(version) >= DATE_BIN_SINCE


def _interval_literal(length: timedelta) -> ColumnElement[Any]:
    micros = _micros(length)
    seconds, us = divmod(micros, 1_000_000)
    minutes, ss = divmod(seconds, 60)
    hours, mm = divmod(minutes, 60)
    return sa.literal_column(f"INTERVAL '{hours}:{mm:02d}:{ss:02d}.{us:06d}'", sa.Interval())


def _timestamp_literal(value: datetime, aware: bool) -> ColumnElement[Any]:
    utc = value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if aware:
        return sa.literal_column(f"TIMESTAMP WITH TIME ZONE '{utc}+00:00'", sa.DateTime(True))
    return sa.literal_column(f"TIMESTAMP WITHOUT TIME ZONE '{utc}'", sa.DateTime())


def _timestamp_target(
    column: ColumnElement[Any], style: TimestampStyle, dialect: Dialect
) -> ColumnElement[Any]:
    """The timestamp expression :func:`window_clause` compares, for ``EpochMicros``."""
    if style == "text" and dialect.name != "sqlite":
        return sa.cast(column, sa.DateTime())
    return column


def arithmetic_index(style: TimestampStyle, dialect: Dialect, bounds: Sequence[datetime]) -> bool:
    """Whether :func:`window_index` computes the index by arithmetic (else a ``CASE`` tree).

    Arithmetic needs equal-length windows, a datetime (not epoch-number)
    timestamp, a dialect :class:`EpochMicros` compiles for and bounds within
    ``EXACT_MICROS`` of the epoch; on SQLite the bounds must fall on whole
    milliseconds, its timestamp resolution.
    """
    step = _regular(bounds)
    if step is None or style == "epoch" or dialect.name not in ARITHMETIC_DIALECTS:
        return False
    if max(abs(_micros(bounds[0])), abs(_micros(bounds[-1]))) >= EXACT_MICROS:
        return False
    return dialect.name != "sqlite" or (
        _micros(bounds[0]) % 1000 == 0 and _micros(step) % 1000 == 0
    )


def window_index(
    column: ColumnElement[Any],
    style: TimestampStyle,
    dialect: Dialect,
    bounds: Sequence[datetime],
    *,
    date_bin: bool = False,
) -> ColumnElement[Any]:
    """Which of the windows ``[bounds[i], bounds[i + 1])`` a row falls in.

    Only meaningful for rows inside ``[bounds[0], bounds[-1])`` (the caller's
    filter). Arithmetic where :func:`arithmetic_index` allows it, else a
    ``CASE`` tree over the window filter's own comparisons. With
    ``date_bin`` (the server has it, see :func:`date_bin_supported`) and a
    ``timestamp``/``timestamptz`` column on PostgreSQL, the arithmetic is a
    :class:`WindowStart` instead, the window's start rather than its index
    (:func:`count_bins_by_window` joins it to the index).
    """
    if len(bounds) < 2:
        raise ValueError("`bounds` must hold at least two instants (one window).")
    if arithmetic_index(style, dialect, bounds):
        length = bounds[1] - bounds[0]
        if date_bin and dialect.name == "postgresql" and style in ("aware", "naive"):
            aware = style == "aware"
            value = sa.cast(column, sa.DateTime(timezone=aware))
            return WindowStart(
                value, _interval_literal(length), _timestamp_literal(bounds[0], aware)
            )
        epoch = EpochMicros(_timestamp_target(column, style, dialect))
        origin, micros = _micros(bounds[0]), _micros(length)
        return WindowIndex(epoch, sa.literal_column(str(origin)), sa.literal_column(str(micros)))

    def node(lo: int, hi: int) -> ColumnElement[int]:
        if hi - lo == 1:
            return sa.literal_column(str(lo), sa.BigInteger())
        mid = (lo + hi) // 2
        at_least = window_clause(column, style, dialect, bounds[mid], None)
        return sa.case((at_least, node(mid, hi)), else_=node(lo, mid))

    return node(0, len(bounds) - 1)


def windows_per_query(columns: int, case_tree: bool) -> int:
    """How many windows one grouped query may cover, for bounded result size."""
    most = max(1, MAX_CELLS // max(1, columns))
    return min(most, MAX_CASE_WINDOWS) if case_tree else most


def _grouped(
    source: sa.FromClause, index: ColumnElement[Any], windows: int, dialect: Dialect
) -> tuple[sa.FromClause, ColumnElement[int]]:
    """The FROM clause and grouping key of a query grouped by window.

    PostgreSQL estimates as many groups as the timestamp has distinct
    values for any expression of it, and so plans a sort of every row
    (spilling to disk) and no parallel workers. Joining the rows to
    ``generate_series(0, windows - 1)`` on the index makes the key a
    column of ``windows`` known values: a parallel hash aggregate. A
    :class:`WindowStart` is joined to each window's start computed from
    that integer series: ``generate_series`` over timestamps is estimated
    at 1000 rows on PostgreSQL before 17, which made the planner sort every
    row for a merge join (measured: slower than ``date_part``).
    """
    if dialect.name != "postgresql":
        return source, index
    series = sa.func.generate_series(0, windows - 1).table_valued("i").render_derived(name="w")
    key: ColumnElement[int] = series.c.i
    if isinstance(index, WindowStart):
        _, length, origin = index.clauses
        return source.join(series, index == SeriesStart(key, length, origin)), key
    return source.join(series, key == index), key


def count_bins_by_window(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    index: ColumnElement[Any],
    windows: int,
    targets: Sequence[tuple[Target, Binning]],
    dialect: Dialect,
    *,
    timed: bool = True,
) -> list[dict[str, Histogram]]:
    """Histograms of every target in each of ``windows`` windows, one pass.

    ``where`` selects the rows of all the windows and ``index`` (from
    :func:`window_index`) maps each to its window, ``0 <= index < windows``,
    or to its window's start (a :class:`WindowStart`, PostgreSQL only). One
    ``GROUP BY`` query (a few when there are more than ``MAX_COLUMNS``
    aggregates); the unseen values of categorical features come from one
    ranked query per such feature. ``timed=False`` says ``index`` is no
    expression of the timestamp (a segment's index within one window), so
    PostgreSQL groups by it directly instead of joining a series.
    On Spark, :func:`drift.sources.grouped_counts.count_bins_by_window` instead.
    """
    if grouped_counts.groupable(dialect.name, targets):
        return grouped_counts.count_bins_by_window(
            conn, source, where, index, windows, targets, unseen_by_window
        )
    aggregates, layouts = bin_aggregates(targets, first=1)
    columns = [sa.func.count(), *aggregates]
    table = np.zeros((windows, len(columns)), dtype=np.int64)
    joined, key = _grouped(source, index, windows, dialect) if timed else (source, index)
    for first in range(0, len(columns), MAX_COLUMNS):
        part = columns[first : first + MAX_COLUMNS]
        query = sa.select(key, *part).select_from(joined).where(where).group_by(_FIRST)
        for row in conn.execute(query):
            table[int(row[0]), first : first + len(part)] = [int(v or 0) for v in row[1:]]
    hists: list[dict[str, Histogram]] = [{} for _ in range(windows)]
    for layout in layouts:
        name, binning = layout.target.name, layout.binning
        counts, missing_counts = layout.decode_rows(table)
        outside = layout.outside_rows(table)
        unseen: list[dict[str, int]] = [{} for _ in range(windows)]
        if isinstance(binning, CategoricalBinning) and bool(np.any(counts[:, -1] > 0)):
            unseen = unseen_by_window(
                conn, joined, key, where, windows, layout.target, binning.categories
            )
        for w in range(windows):
            hists[w][name] = layout.histogram(
                counts[w], int(missing_counts[w]), unseen[w], outside[w].tolist()
            )
    return hists


def unseen_by_window(
    conn: sa.Connection,
    source: sa.FromClause,
    key: ColumnElement[int],
    where: ColumnElement[bool],
    windows: int,
    target: Target,
    categories: Sequence[str],
) -> list[dict[str, int]]:
    """The ``UNSEEN_KEEP`` most frequent unseen values of each window.

    The same ranking as :func:`drift.sources.pushdown.top_values` (count
    descending, then value in byte order), per window by ``ROW_NUMBER()``.
    """
    condition = sa.and_(where, sa.not_(target.is_missing))
    if categories:
        condition = sa.and_(condition, target.value.not_in(list(categories)))
    grouped = (
        sa.select(key.label("w"), target.value.label("v"), sa.func.count().label("n"))
        .select_from(source)
        .where(condition)
        .group_by(_FIRST, sa.literal_column("2"))
        .subquery("unseen")
    )
    rank = sa.func.row_number().over(
        partition_by=grouped.c.w, order_by=(grouped.c.n.desc(), grouped.c.v)
    )
    ranked = sa.select(grouped.c.w, grouped.c.v, grouped.c.n, rank.label("r")).subquery("ranked")
    query = sa.select(ranked.c.w, ranked.c.v, ranked.c.n).where(ranked.c.r <= UNSEEN_KEEP)
    out: list[dict[str, int]] = [{} for _ in range(windows)]
    for w, value, n in conn.execute(query):
        out[int(w)][str(value)] = int(n)
    return out
