"""Reads of stored scores and a seeded alert, for tests that check what the store holds.

Written against the tables, not the store's API: the dashboard reads through the
bucketed queries of drift.store.summaries, and nothing in the package reads rows so.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any


def stored_scores(
    store: Any,
    monitor: str,
    metric: str,
    start: datetime,
    end: datetime,
    feature: str | None = None,
) -> list[Any]:
    """Score rows of ``metric`` (one feature, or all) for windows ending in ``(start, end]``.

    Oldest window first, then by feature; window times are aware UTC.
    """
    import sqlalchemy as sa

    from drift.store import tables as t
    from drift.store.convert import from_db_time, to_db_time

    s = t.score
    query = (
        sa.select(s)
        .where(s.c.monitor == monitor, s.c.metric == metric)
        .where(s.c.window_end > to_db_time(start), s.c.window_end <= to_db_time(end))
        .order_by(s.c.window_end, s.c.feature)
    )
    if feature is not None:
        query = query.where(s.c.feature == feature)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        SimpleNamespace(
            **{
                **row._asdict(),
                "window_start": from_db_time(row.window_start),
                "window_end": from_db_time(row.window_end),
            }
        )
        for row in rows
    ]


def open_alert(store: Any, monitor: str, feature: str, run_id: int, severity: str = "warn") -> None:
    """Open (or keep open) an alert of ``monitor``/``feature`` decided by run ``run_id``."""
    from drift.alerts.types import AlertChange

    current = {a.feature: a for a in store.open_alerts(monitor)}.get(feature)
    event = "update" if current is not None else "open"
    expect = current.severity if current is not None else None
    store.apply_alert_change(
        AlertChange(monitor, feature, event, severity, run_id, "drift", expect)
    )


def resolve_alert(store: Any, monitor: str, feature: str, run_id: int) -> None:
    """Resolve the open alert of ``monitor``/``feature`` at run ``run_id``."""
    from drift.alerts.types import AlertChange

    (current,) = [a for a in store.open_alerts(monitor) if a.feature == feature]
    store.apply_alert_change(
        AlertChange(monitor, feature, "resolve", "ok", run_id, "resolved", current.severity)
    )
