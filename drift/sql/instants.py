"""Instants as the results store keeps them: timezone-aware, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["as_utc"]


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive ``value`` is read as UTC (how the store and the CLI take times).

    Examples
    --------
    >>> from datetime import timedelta, timezone
    >>> as_utc(datetime(2024, 5, 1, 6))
    datetime.datetime(2024, 5, 1, 6, 0, tzinfo=datetime.timezone.utc)
    >>> as_utc(datetime(2024, 5, 1, 8, tzinfo=timezone(timedelta(hours=2))))
    datetime.datetime(2024, 5, 1, 6, 0, tzinfo=datetime.timezone.utc)
    """
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
