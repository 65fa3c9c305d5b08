"""Rows of a text-only stream straight from psycopg's server-side cursor.

SQLAlchemy builds a ``Row`` for every row it returns, about 1.5 µs each:
for a stream of short documents that is most of the time spent (a million
rows: 1.9 s through SQLAlchemy, 0.4 s from the cursor itself; see
``bench/RESULTS.md``). Text values need no result conversion, so a stream
whose columns are all text (or small integer flags) can read psycopg's own
named cursor. The statement is still compiled by SQLAlchemy for the dialect,
and every bound value goes through its type's bind processor; anything this
module does not know how to pass on exactly (another driver, expanding or
literal-execute parameters) returns ``None`` and the caller streams through
SQLAlchemy as before.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

__all__ = ["raw_text_rows"]


def raw_text_rows(
    conn: sa.Connection, query: sa.Select[Any], chunk_size: int
) -> Iterator[Sequence[tuple[Any, ...]]] | None:
    """Chunks of ``query``'s rows as plain tuples, or ``None`` where this cannot apply.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A PostgreSQL connection through psycopg 3 (``postgresql+psycopg``).
    query : sqlalchemy.Select
        Whose columns need no result processing (text, integers).
    chunk_size : int
        Rows per chunk, and the cursor's fetch size.
    """
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return None
    compiled = query.compile(dialect=conn.dialect)
    params = dict(compiled.construct_params())
    for bind, name in compiled.bind_names.items():
        if bind.expanding or bind.literal_execute or name not in params:
            return None
        process = bind.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if process is not None:
            params[name] = process(params[name])
    return _fetch(conn, compiled.string, params, chunk_size)


def _fetch(
    conn: sa.Connection, sql: str, params: dict[str, Any], chunk_size: int
) -> Iterator[Sequence[tuple[Any, ...]]]:
    # The DBAPI connection under ``conn``: the read is part of its transaction
    # (and of the isolation level the source set), and is rolled back with it.
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cursor: Any = dbapi.cursor(name=f"drift_{uuid.uuid4().hex[:12]}")
    try:
        cursor.itersize = chunk_size
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            yield rows
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _as_sqlalchemy_error(conn, sql, params, exc, cursor) from exc
    finally:
        with contextlib.suppress(Exception):  # a lost connection: the error above says so
            cursor.close()


def _as_sqlalchemy_error(
    conn: sa.Connection, sql: str, params: dict[str, Any], exc: Any, cursor: Any
) -> sa.exc.DBAPIError:
    """``exc`` as SQLAlchemy would raise it: a ``DBAPIError`` subclass, its disconnects handled.

    Callers handle database failures as SQLAlchemy errors (a run records
    them; a lost connection, ``connection_invalidated``, fails the run at
    once), and a connection that went away must leave the pool.
    """
    dialect = conn.dialect
    lost = dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
    if lost:
        conn.invalidate(exc)
    error = sa.exc.DBAPIError.instance(
        sql, params, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
    )
    assert isinstance(error, sa.exc.DBAPIError)
    return error
