"""Seconds since the Unix epoch of a stored (naive UTC) time, in each dialect's SQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["bucket_index", "epoch_seconds"]


class epoch_seconds(FunctionElement[float]):  # noqa: N801 - reads as a SQL function
    """``epoch_seconds(column)``: the column's naive UTC time as seconds since 1970.

    Each dialect spells it so that no session time zone is applied: MariaDB's
    ``UNIX_TIMESTAMP`` would read a ``DATETIME`` in the session's zone, so it
    is ``TIMESTAMPDIFF`` from the epoch there.
    """

    type = sa.Double()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds)
def _default(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(epoch_seconds, "sqlite")
def _sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"ROUND((julianday({column}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds, "mysql")
@compiles(epoch_seconds, "mariadb")
def _mysql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {column})"


class bucket_index(FunctionElement[int]):  # noqa: N801 - reads as a SQL function
    """``bucket_index(seconds, origin, width)``: ``floor((seconds - origin - 1) / width)``.

    With whole seconds, times in ``(origin + k*width, origin + (k+1)*width]``
    fall in bucket ``k``: a window that ends on a bucket's edge belongs to the
    bucket it closes. ``origin`` and ``width`` are bound parameters.
    """

    type = sa.BigInteger()
    inherit_cache = True
    name = "bucket_index"


@compiles(bucket_index)
def _bucket_default(element: bucket_index, compiler: SQLCompiler, **kw: Any) -> str:
    seconds, origin, width = (compiler.process(c, **kw) for c in element.clauses)
    return f"FLOOR(({seconds} - {origin} - 1) / {width})"


@compiles(bucket_index, "sqlite")
def _bucket_sqlite(element: bucket_index, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite may lack FLOOR; the operand is never negative here (times after
    # the origin), so truncation is the floor.
    seconds, origin, width = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(({seconds} - {origin} - 1) / {width} AS INTEGER)"
