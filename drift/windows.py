"""Window arithmetic: which rows a live window and its reference cover."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from croniter import croniter  # type: ignore[import-untyped]

from drift.config import MonitorConfig
from drift.errors import ConfigError

__all__ = ["ReferenceRange", "live_window", "reference_window"]


@dataclass(frozen=True, slots=True)
class ReferenceRange:
    """What a source must read for a reference.

    ``table``/``schema``/``query``/``timestamp`` are ``None`` when the
    reference is read from the monitor's own relation; ``start``/``end`` are
    ``None`` for an unbounded read of a separate reference relation.
    """

    start: datetime | None
    end: datetime | None
    table: str | None = None
    schema: str | None = None
    query: str | None = None
    timestamp: str | None = None

    @property
    def separate(self) -> bool:
        """Whether the reference lives in its own table or query."""
        return self.table is not None or self.query is not None


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"`{name}` must be timezone-aware (UTC), got naive {value}.")
    return value.astimezone(UTC)


def reference_window(monitor: MonitorConfig, start: datetime, end: datetime) -> ReferenceRange:
    """The reference rows to compare the live window ``[start, end)`` with.

    Parameters
    ----------
    monitor : MonitorConfig
        The monitor; its ``reference`` says which mode applies.
    start, end : datetime
        The live window, timezone-aware, ``start < end``.

    Returns
    -------
    ReferenceRange
        - ``previous_windows: N``: ``[start - N * (end - start), start)``
        - ``season: S``: ``[start - S, end - S)``
        - fixed ``start``/``end``: that range
        - ``table``/``query``: the separate relation, bounded by the reference's
          own ``start``/``end`` when given, else unbounded.

    Examples
    --------
    >>> from drift.config import parse_monitor
    >>> m = parse_monitor({"name": "m", "source": {"url": "sqlite://"}, "table": "t",
    ...                    "timestamp": "ts", "reference": {"previous_windows": 7}})
    >>> r = reference_window(m, datetime(2024, 1, 8, tzinfo=UTC), datetime(2024, 1, 9, tzinfo=UTC))
    >>> r.start.date(), r.end.date()
    (datetime.date(2024, 1, 1), datetime.date(2024, 1, 8))
    """
    start, end = _utc(start, "start"), _utc(end, "end")
    if start >= end:
        raise ValueError(f"`start` ({start}) must be before `end` ({end}).")
    ref = monitor.reference
    mode = ref.mode
    if mode == "previous_windows":
        assert ref.previous_windows is not None
        return ReferenceRange(start - ref.previous_windows * (end - start), start)
    if mode == "season":
        assert ref.season is not None
        return ReferenceRange(start - ref.season, end - ref.season)
    if mode == "fixed":
        return ReferenceRange(ref.start, ref.end)
    return ReferenceRange(
        ref.start,
        ref.end,
        table=ref.table,
        schema=ref.db_schema,
        query=ref.query,
        timestamp=ref.timestamp or monitor.timestamp,
    )


def live_window(monitor: MonitorConfig, end: datetime) -> tuple[datetime, datetime]:
    """The live window ``[start, end)`` that closes at ``end``.

    With a ``window`` length (default 1d) the window is ``[end - window, end)``;
    with only a cron ``schedule`` it starts at the schedule's previous tick.
    """
    end = _utc(end, "end")
    length = monitor.window_length
    if length is not None:
        return end - length, end
    if monitor.schedule is None:  # pragma: no cover - window_length covers it
        raise ConfigError(f"monitor {monitor.name!r} has neither window nor schedule")
    previous = croniter(monitor.schedule, end).get_prev(datetime)
    return _utc(previous.replace(fold=0), "start"), end
