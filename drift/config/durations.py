"""Durations and cron expressions as written in monitor files."""

from __future__ import annotations

import re
from datetime import timedelta

from croniter import croniter  # type: ignore[import-untyped]

_UNITS = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(text: str) -> timedelta:
    """Parse a duration such as ``"30m"``, ``"1h"``, ``"1d"``, ``"7d"`` or ``"2w"``.

    Parameters
    ----------
    text : str
        A positive whole number followed by one unit: ``s`` (seconds), ``m``
        (minutes), ``h`` (hours), ``d`` (days) or ``w`` (weeks).

    Returns
    -------
    datetime.timedelta
        The duration; always positive.

    Raises
    ------
    ValueError
        If ``text`` is not of that form or is zero.

    Examples
    --------
    >>> parse_duration("7d")
    datetime.timedelta(days=7)
    >>> parse_duration("30m")
    datetime.timedelta(seconds=1800)
    """
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(
            f"must be a duration like 30m, 1h, 1d, 7d or 2w (a whole number and one of "
            f"s, m, h, d, w), got {text!r}"
        )
    amount = int(match.group(1))
    if amount == 0:
        raise ValueError(f"must be a positive duration, got {text!r}")
    return amount * _UNITS[match.group(2)]


def format_duration(value: timedelta) -> str:
    """Write ``value`` in the largest unit that divides it (inverse of :func:`parse_duration`).

    Examples
    --------
    >>> format_duration(timedelta(days=14))
    '2w'
    >>> format_duration(timedelta(minutes=90))
    '90m'
    """
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        size = int(_UNITS[unit].total_seconds())
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def check_cron(expression: str) -> str:
    """Return ``expression`` unchanged if it is a valid five-field cron expression.

    Raises
    ------
    ValueError
        If croniter cannot parse it.
    """
    fields = expression.split()
    if len(fields) != 5 or not croniter.is_valid(expression):
        raise ValueError(
            f"must be a five-field cron expression such as '0 * * * *' "
            f"(minute hour day-of-month month day-of-week), got {expression!r}"
        )
    return expression
