"""Integer microseconds since the Unix epoch, and window indexes, in each dialect's SQL.

Two SQL functions shared by the layers that group rows by time: the sources
(a backfill groups a user's rows by window, :mod:`drift.sources.windowed`)
and the results store (the dashboard groups stored windows into buckets,
:mod:`drift.store.summaries`). SQL expressions only, no I/O.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["SQLITE_UNIX_EPOCH_MS", "EpochMicros", "WindowIndex"]

SQLITE_UNIX_EPOCH_MS = 210_866_760_000_000  # julianday('1970-01-01') * 86,400,000


class EpochMicros(FunctionElement[int]):
    """Integer microseconds since 1970-01-01 UTC of a timestamp expression."""

    type = sa.BigInteger()
    name = "epoch_micros"
    inherit_cache = True


class WindowIndex(FunctionElement[int]):
    """``floor((epoch_micros - origin) / length)`` for non-negative differences.

    Arguments: the :class:`EpochMicros` expression, then ``origin`` and
    ``length`` in microseconds as integer literals (never user input).
    """

    type = sa.BigInteger()
    name = "window_index"
    inherit_cache = True


@compiles(EpochMicros)
def _epoch_default(element: EpochMicros, compiler: SQLCompiler, **kw: Any) -> str:
    raise sa.exc.CompileError(f"no epoch_micros for dialect {compiler.dialect.name!r}")


@compiles(EpochMicros, "postgresql")
def _epoch_postgresql(element: EpochMicros, compiler: SQLCompiler, **kw: Any) -> str:
    # date_part() is float8: N / 1e6 correctly rounded, for N the exact
    # microseconds. Times 1e6 it is within 0.25 + 0.25 of N while |N| < 2**52
    # (years 1827 to 2112, see drift.sources.windowed.EXACT_MICROS), so the cast (which rounds)
    # gives N. EXTRACT would be exact everywhere but is numeric since
    # PostgreSQL 14, and numeric arithmetic made the grouped pass 2x slower.
    value = compiler.process(element.clauses, **kw)
    return f"CAST(date_part('epoch', {value}) * 1000000 AS BIGINT)"


@compiles(EpochMicros, "duckdb")
def _epoch_duckdb(element: EpochMicros, compiler: SQLCompiler, **kw: Any) -> str:
    return f"epoch_us({compiler.process(element.clauses, **kw)})"


@compiles(EpochMicros, "mysql")
@compiles(EpochMicros, "mariadb")
def _epoch_mysql(element: EpochMicros, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    return f"TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {value})"


@compiles(EpochMicros, "sqlite")
def _epoch_sqlite(element: EpochMicros, compiler: SQLCompiler, **kw: Any) -> str:
    # julianday() is SQLite's integer milliseconds / 86,400,000; the product
    # is within 0.05 ms of that integer, so rounding recovers it exactly.
    value = compiler.process(element.clauses, **kw)
    return (
        f"((CAST(round(julianday({value}) * 86400000.0) AS INTEGER)"
        f" - {SQLITE_UNIX_EPOCH_MS}) * 1000)"
    )


def _index_operands(element: WindowIndex, compiler: SQLCompiler, **kw: Any) -> tuple[str, ...]:
    return tuple(compiler.process(c, **kw) for c in element.clauses)


@compiles(WindowIndex)
def _index_default(element: WindowIndex, compiler: SQLCompiler, **kw: Any) -> str:
    value, origin, length = _index_operands(element, compiler, **kw)
    return f"(({value} - {origin}) / {length})"


@compiles(WindowIndex, "duckdb")
def _index_duckdb(element: WindowIndex, compiler: SQLCompiler, **kw: Any) -> str:
    value, origin, length = _index_operands(element, compiler, **kw)
    return f"(({value} - {origin}) // {length})"


@compiles(WindowIndex, "mysql")
@compiles(WindowIndex, "mariadb")
@compiles(WindowIndex, "hive")
@compiles(WindowIndex, "databricks")
def _index_div(element: WindowIndex, compiler: SQLCompiler, **kw: Any) -> str:
    value, origin, length = _index_operands(element, compiler, **kw)
    return f"(({value} - {origin}) DIV {length})"


@compiles(EpochMicros, "hive")
@compiles(EpochMicros, "databricks")
def _epoch_spark(element: EpochMicros, compiler: SQLCompiler, **kw: Any) -> str:
    # The CAST makes TIMESTAMP_NTZ a session-zone TIMESTAMP; drift.sources.spark pins
    # the session zone to UTC, which is how naive bounds are read too.
    return f"unix_micros(CAST({compiler.process(element.clauses, **kw)} AS TIMESTAMP))"
