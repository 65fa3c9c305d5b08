"""The overview's "morning page" facts: freshness, open alerts with age, a severity strip.

A monitor is late when the latest window its schedule has closed by now
(``drift.config.windows`` on its stored definition) has not been run, a
grace period after the window closed (a scheduled run needs a few minutes).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from drift.config import MonitorConfig, parse_monitor
from drift.config.windows import windows_between
from drift.dashboard.schemas import Freshness, OpenAlert, Strip
from drift.errors import ConfigError
from drift.store import AlertRow, ResultsStore
from drift.store.summaries import SEVERITY_RANK

__all__ = ["GRACE", "STRIP_WINDOWS", "expected_end", "freshness", "open_alerts", "strip"]

#: Windows in the overview's strip.
STRIP_WINDOWS = 14
#: How long after a window closes its run may take before the monitor counts as late.
GRACE = timedelta(hours=1)


def _monitor(config: dict[str, Any]) -> MonitorConfig | None:
    """The stored definition's schedule as a monitor (only ``window``/``schedule`` matter).

    The whole stored definition does not parse again (it carries every
    default, some of which apply to other kinds), so only its timing is.
    """
    timing = {k: config[k] for k in ("window", "schedule") if config.get(k) is not None}
    try:
        return parse_monitor(
            {"name": "m", "source": {"url": "sqlite://"}, "table": "t", "timestamp": "ts",
             **timing},
            source_name="stored config",
        )  # fmt: skip
    except (ConfigError, ValueError, TypeError):
        return None


def expected_end(monitor: MonitorConfig, now: datetime) -> datetime | None:
    """The end of the latest window of ``monitor`` that has closed by ``now``."""
    length = monitor.window_length
    spans = [length] if length is not None else [timedelta(days=2), timedelta(days=40)]
    for span in spans:
        last = None
        for _start, end in windows_between(monitor, now - span, now):
            last = end
        if last is not None:
            return last
    return None


def freshness(config: dict[str, Any], last_end: datetime | None, now: datetime) -> Freshness:
    """Whether the monitor has run the latest window its schedule has closed."""
    monitor = _monitor(config)
    expected = None if monitor is None else expected_end(monitor, now)
    if expected is None:
        return Freshness(state="unknown" if last_end is not None else "never_ran")
    if last_end is None:
        return Freshness(state="never_ran", expected_window_end=expected)
    length = monitor.window_length if monitor is not None else None
    grace = min(GRACE, length) if length is not None else GRACE
    if last_end >= expected or now - expected < grace:
        return Freshness(state="on_time", expected_window_end=expected)
    return Freshness(
        state="late",
        expected_window_end=expected,
        late_by_seconds=(now - expected).total_seconds(),
    )


def open_alerts(store: ResultsStore, alerts: list[AlertRow], now: datetime) -> list[OpenAlert]:
    """Open alerts, worst and oldest first, each with its opening window and age."""
    ordered = sorted(alerts, key=lambda a: (-SEVERITY_RANK.get(a.severity, 0), a.created_at))
    out = []
    for a in ordered:
        run = store.run(a.opened_run_id) if a.opened_run_id is not None else None
        out.append(
            OpenAlert(
                id=a.id, feature=a.feature, segment=a.segment, severity=a.severity,
                opened_run_id=a.opened_run_id,
                opened_window_start=None if run is None else run.window_start,
                created_at=a.created_at, age_seconds=max(0.0, (now - a.created_at).total_seconds()),
            )
        )  # fmt: skip
    return out


def strip(store: ResultsStore, name: str) -> Strip:
    """Each feature's worst severity in the monitor's last :data:`STRIP_WINDOWS` runs."""
    grid = store.severity_strip(name, STRIP_WINDOWS)
    return Strip(
        names=list(grid.names), starts=list(grid.starts), ends=list(grid.ends),
        severities=[list(v) for v in grid.severities], values=[list(v) for v in grid.values],
        run_ids=[list(v) for v in grid.run_ids],
    )  # fmt: skip
