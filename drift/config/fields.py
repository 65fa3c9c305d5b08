"""The value types of monitor keys: durations, instants, SQL queries, names."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import sqlparse
from pydantic import AfterValidator, BeforeValidator, PlainSerializer

from drift.config.durations import format_duration, parse_duration

__all__ = ["Duration", "Instant", "MonitorName", "Query", "check_query"]


def _to_duration(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ValueError(f"must be a positive duration, got {value}")
        return value
    # Not pydantic's number-of-seconds reading: `window: false` would be a zero window.
    raise ValueError(f"must be a duration such as 30m, 1h or 7d, got {value!r}")


def _to_utc(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


Duration = Annotated[
    timedelta,
    BeforeValidator(_to_duration),
    PlainSerializer(format_duration, return_type=str),
]
"""A positive duration written as ``30m``, ``1h``, ``1d``, ``7d``, ``2w``."""

Instant = Annotated[datetime, BeforeValidator(_to_utc), AfterValidator(_as_utc)]
"""A point in time; a date means midnight UTC and a naive time is taken as UTC."""

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def check_query(query: str) -> str:
    """``query`` without a trailing ``;``, if it is one SELECT (or WITH ... SELECT) statement.

    The text is split into statements by sqlparse, as Airflow's
    ``DbApiHook.split_sql_string`` does, so semicolons inside string
    literals, quoted identifiers and comments are not statement ends.

    Examples
    --------
    >>> check_query("SELECT * FROM t WHERE note <> 'a;b';")
    "SELECT * FROM t WHERE note <> 'a;b'"
    >>> check_query("SELECT 1; DROP TABLE t")
    Traceback (most recent call last):
    ...
    ValueError: must be a single statement (found 2)
    """
    statements = [s for s in sqlparse.split(query, strip_semicolon=True) if s.strip()]
    if len(statements) > 1:
        raise ValueError(f"must be a single statement (found {len(statements)})")
    body = statements[0] if statements else ""
    parsed = sqlparse.parse(body)[0] if body else None
    first = parsed.token_first(skip_ws=True, skip_cm=True) if parsed is not None else None  # type: ignore[no-untyped-call]
    keyword = first.normalized.upper() if first is not None else ""
    if keyword not in ("SELECT", "WITH"):
        raise ValueError("must be a single SELECT (or WITH ... SELECT) statement")
    return body.strip()


Query = Annotated[str, AfterValidator(check_query)]
"""A single SELECT statement (trailing ``;`` dropped)."""


def _check_name(name: str) -> str:
    if _NAME.match(name) is None:
        raise ValueError(
            f"must contain only letters, digits, '_', '.' and '-' (it becomes the DAG id), "
            f"got {name!r}"
        )
    return name


MonitorName = Annotated[str, AfterValidator(_check_name)]
"""A monitor name: letters, digits, ``_``, ``.`` and ``-`` (it becomes the DAG id)."""
