"""Helpers the store benchmarks share: score rows read one by one, and a seeded alert.

``score_rows`` is the row-by-row read that the dashboard's SQL bucketing
replaced, kept here as the benchmarks' point of comparison (the package no
longer reads scores that way).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from drift.alerts.types import AlertChange
from drift.store import ResultsStore
from drift.store import tables as t
from drift.store.convert import from_db_time, to_db_time


def score_rows(
    store: ResultsStore,
    monitor: str,
    metric: str,
    start: datetime,
    end: datetime,
    feature: str | None = None,
) -> list[dict[str, Any]]:
    """Every score row of ``metric`` for windows ending in ``(start, end]``, as Python rows."""
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
        return [
            {**row._asdict(), "window_end": from_db_time(row.window_end)}
            for row in conn.execute(query).all()
        ]


def seed_alert(store: ResultsStore, monitor: str, feature: str, run_id: int) -> None:
    """Open a warn alert of ``monitor``/``feature`` at run ``run_id``."""
    store.apply_alert_change(AlertChange(monitor, feature, "open", "warn", run_id, "drift", None))
