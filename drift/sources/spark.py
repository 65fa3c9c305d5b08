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

__all__ = ["SPARK_DIALECTS", "check_identifier", "prepare_engine", "spark_tables", "trim_error"]

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

    A parse error names only the exception class on its first line; the
    message is on the next:

    >>> trim_error("Error running query: [PARSE_SYNTAX_ERROR] org.apache.spark.sql.catalyst."
    ...            "parser.ParseException: \\n[PARSE_SYNTAX_ERROR] Syntax error at or near 'x'."
    ...            " SQLSTATE: 42601 (line 1, pos 3)\\n\\n== SQL ==\\nSELECT x x x\\n")
    "[PARSE_SYNTAX_ERROR] Syntax error at or near 'x'. SQLSTATE: 42601 (line 1, pos 3)"
    """
    found = _FIELD.search(message)
    text = found.group(2).replace("\\n", "\n") if found else message
    for line in text.strip().splitlines() or [text]:
        first = _PREFIX.sub("", line.strip())
        _head, sep, tail = first.partition("] ")
        if sep and _CLASS.match(tail):
            first = _CLASS.sub("", tail, count=1)
        if first.strip():  # a bare exception class leaves nothing: its message is below
            break
    return first[:500]


def _server_message(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    status = getattr(args[0], "status", None) if args else None
    message = getattr(status, "errorMessage", None)
    return str(message) if message else str(exc)


def check_identifier(name: str, where: str) -> None:
    """Refuse a column name PyHive cannot resolve: one with a dot.

    PyHive's compiler counts the dots of a rendered column to strip its
    table, so a dotted name would lose its qualifier or fail with a parse
    error deep in Spark; this says why up front. (Backticks and quotes are
    quoted properly once :func:`prepare_engine` fixed PyHive's escaping.)

    Raises
    ------
    drift.errors.SourceError
        Naming the column and the character.
    """
    for char, why in ((".", "a dot"),):
        if char in name:
            raise SourceError(
                f"column {name!r} in {where} contains {why}, which the Spark (PyHive) dialect "
                "cannot quote; rename it, or read it through `query:` with an alias "
                "(SELECT `odd``name` AS odd_name ...)"
            )


def spark_tables(conn: sa.Connection, schema: str | None) -> list[str]:
    """The tables (and views) of ``schema``, or of the session's database, in Spark.

    PyHive's ``get_table_names()`` returns the namespace column of ``SHOW
    TABLES`` instead of the names; the names are its ``tableName`` column.
    """
    where = "" if schema is None else " IN " + conn.dialect.identifier_preparer.quote(schema)
    result = conn.execute(sa.text(f"SHOW TABLES{where}"))
    names = list(result.keys())
    column = names.index("tableName") if "tableName" in names else min(1, len(names) - 1)
    return sorted(str(row[column]) for row in result)


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

    # PyHive quotes names in backticks but escapes the double quote (SQLAlchemy's
    # default) instead of the backtick: `x"y` came out as `x""y`, and `x`y` unquoted.
    # Spark doubles a backtick inside a quoted name.
    preparer = engine.dialect.identifier_preparer
    preparer.escape_quote, preparer.escape_to_quote = "`", "``"
    preparer._strings = {}  # its cache of names quoted the old way
    engine._drift_spark_ready = True  # type: ignore[attr-defined]
