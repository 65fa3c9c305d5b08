"""Spark SQL (and Databricks) as a source: the facts the generic SQL path gets wrong.

Spark is reached through PyHive's ``hive://`` SQLAlchemy dialect (the Spark
Thrift server speaks HiveServer2). PyHive inlines parameters client-side, so
NaN and infinities must be spelled ``CAST('NaN' AS DOUBLE)``; its errors
carry the server's whole Java stack, trimmed here to the first meaningful
line; window bounds are naive UTC, so every connection pins the session time
zone to UTC.

Reads are not snapshot-isolated on Spark: a table can change between two
statements. A window's counts (every bin, the missing count and the total)
come from one statement, so they are always consistent with each other.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from drift.errors import SourceError

__all__ = ["SPARK_DIALECTS", "check_identifier", "prepare_engine", "trim_error"]

#: SQLAlchemy dialect names that speak Spark SQL.
SPARK_DIALECTS = frozenset({"hive", "databricks"})

_PREFIX = re.compile(
    r"^(?:\*?org\.apache\.hive\.service\.cli\.HiveSQLException:)?Error running query:\s*"
)
_CLASS = re.compile(r"\s*org\.apache\.spark\.\S+Exception:\s*")
_FIELD = re.compile(r"errorMessage=(['\"])(.*?)\1", re.S)


def trim_error(message: str) -> str:
    """The first meaningful line of a Spark error, without the Java stack.

    Examples
    --------
    >>> trim_error("Error running query: [TABLE_OR_VIEW_NOT_FOUND] org.apache.spark.sql."
    ...            "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table `t` cannot be "
    ...            "found. SQLSTATE: 42P01; line 1 pos 14;\\n'Project [*]\\n")
    '[TABLE_OR_VIEW_NOT_FOUND] The table `t` cannot be found. SQLSTATE: 42P01; line 1 pos 14;'
    """
    found = _FIELD.search(message)
    text = found.group(2).replace("\\n", "\n") if found else message
    first = text.strip().splitlines()[0] if text.strip() else text
    first = _PREFIX.sub("", first)
    _head, sep, tail = first.partition("] ")
    if sep and _CLASS.match(tail):
        first = _CLASS.sub("", tail, count=1)
    return first[:500]


def _server_message(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    status = getattr(args[0], "status", None) if args else None
    message = getattr(status, "errorMessage", None)
    return str(message) if message else str(exc)


def check_identifier(name: str, where: str) -> None:
    """Refuse a column name PyHive cannot quote (a backtick) or resolve (a dot).

    PyHive's compiler splits a quoted name on dots and does not double
    backticks, so such a name would read the wrong column or fail with a
    parse error deep in Spark; this says why up front.

    Raises
    ------
    drift.errors.SourceError
        Naming the column and the character.
    """
    for char, why in (("`", "a backtick"), (".", "a dot")):
        if char in name:
            raise SourceError(
                f"column {name!r} in {where} contains {why}, which the Spark (PyHive) dialect "
                "cannot quote; rename it, or read it through `query:` with an alias "
                "(SELECT `odd``name` AS odd_name ...)"
            )


def prepare_engine(engine: sa.Engine) -> None:
    """Pin the session time zone to UTC and trim Java stacks from errors (once per engine)."""
    if getattr(engine, "_drift_spark_ready", False):
        return

    @sa.event.listens_for(engine, "connect")
    def _utc(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SET spark.sql.session.timeZone=UTC")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "handle_error")
    def _trim(context: sa.engine.ExceptionContext) -> BaseException | None:
        if context.original_exception is None or not isinstance(
            context.sqlalchemy_exception, sa.exc.DBAPIError
        ):
            return None
        text = trim_error(_server_message(context.original_exception))
        return SourceError(f"Spark SQL failed: {text}")

    engine._drift_spark_ready = True  # type: ignore[attr-defined]
