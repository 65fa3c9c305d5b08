"""All window arithmetic: which rows a live window and its reference cover.

A monitor's windows are ``[start, end)`` in UTC. With a fixed ``window``
length they are aligned to whole multiples of it counted from the Unix epoch
(``1d`` windows are UTC days), which is also how the Airflow timetable of the
monitor's DAG cuts them (:func:`aligned_cron`); with a cron ``schedule`` each
window ends at a tick. Every part of the package that needs a window, a
reference range or the windows of a range asks this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter  # type: ignore[import-untyped]

from drift.config.models import MonitorConfig
from drift.errors import ConfigError

__all__ = [
    "ReferenceRange",
    "aligned_cron",
    "live_window",
    "parse_window",
    "reference_window",
    "utc",
    "windows_between",
]


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


def utc(value: datetime, name: str) -> datetime:
    """``value`` in UTC; a naive ``value`` is refused, naming the argument ``name``.

    Examples
    --------
    >>> from datetime import timezone
    >>> utc(datetime(2024, 5, 1, 2, tzinfo=timezone(timedelta(hours=2))), "end")
    datetime.datetime(2024, 5, 1, 0, 0, tzinfo=datetime.timezone.utc)
    >>> utc(datetime(2024, 5, 1), "end")
    Traceback (most recent call last):
    ...
    ValueError: `end` must be timezone-aware (UTC), got naive 2024-05-01 00:00:00.
    """
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
    start, end = utc(start, "start"), utc(end, "end")
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
    end = utc(end, "end")
    length = monitor.window_length
    if length is not None:
        return end - length, end
    if monitor.schedule is None:  # pragma: no cover - window_length covers it
        raise ConfigError(f"monitor {monitor.name!r} has neither window nor schedule")
    previous = croniter(monitor.schedule, end).get_prev(datetime)
    return utc(previous.replace(fold=0), "start"), end


def windows_between(
    monitor: MonitorConfig, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The monitor's windows that close in ``(start, end]``, oldest first.

    With a fixed ``window`` length, windows are aligned to whole multiples of
    it counted from the Unix epoch (``1d`` windows are UTC days), as Airflow's
    timetable for the monitor DAG aligns them; with a cron ``schedule`` each
    window ends at a tick.

    Examples
    --------
    >>> from drift.config import parse_monitor
    >>> m = parse_monitor({"name": "m", "source": {"url": "sqlite://"}, "table": "t",
    ...                    "timestamp": "ts", "window": "12h"})
    >>> [(a.hour, b.hour) for a, b in windows_between(
    ...     m, datetime(2024, 1, 1, 5, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))]
    [(0, 12), (12, 0)]
    """
    start, end = utc(start, "start"), utc(end, "end")
    length = monitor.window_length
    if length is not None:
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        steps = -(-(start - epoch) // length)
        close = epoch + steps * length
        if close <= start:
            close += length
        while close <= end:
            yield close - length, close
            close += length
        return
    ticks = croniter(monitor.schedule, start)
    while (tick := ticks.get_next(datetime).astimezone(UTC)) <= end:
        yield live_window(monitor, tick)


def aligned_cron(length: timedelta) -> str | None:
    """A cron expression whose intervals are ``length`` long and aligned to UTC midnight.

    ``None`` when no cron expression has that property (lengths that do not
    divide a day, such as ``7d`` or ``5h``).

    Examples
    --------
    >>> aligned_cron(timedelta(days=1)), aligned_cron(timedelta(hours=6)), aligned_cron(
    ...     timedelta(minutes=15)), aligned_cron(timedelta(days=7))
    ('0 0 * * *', '0 */6 * * *', '*/15 * * * *', None)
    """
    seconds = int(length.total_seconds())
    if seconds == 86_400:
        return "0 0 * * *"
    if seconds % 3600 == 0 and 86_400 % seconds == 0:
        return f"0 */{seconds // 3600} * * *"
    if seconds % 60 == 0 and 3600 % seconds == 0:
        return f"*/{seconds // 60} * * * *"
    return None


def parse_window(start: str, end: str) -> tuple[datetime, datetime]:
    """The window ``[start, end)`` written as two ISO-8601 instants with a UTC offset.

    Raises
    ------
    ValueError
        If either is not ISO-8601, has no offset, or ``start`` is not before ``end``.
    """
    try:
        lo, hi = datetime.fromisoformat(start), datetime.fromisoformat(end)
    except ValueError as exc:
        raise ValueError(f"window_start/window_end: {exc}") from None
    if lo.tzinfo is None or hi.tzinfo is None or not lo < hi:
        raise ValueError(
            "window_start/window_end must be ISO-8601 with a UTC offset, "
            f"start before end; got {start!r}, {end!r}"
        )
    return lo.astimezone(UTC), hi.astimezone(UTC)
