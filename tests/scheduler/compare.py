"""What a results store holds for one monitor, in a form equal for equal histories.

Run ids differ between stores, so every row that points at a run is keyed by
that run's window instead (a score, a histogram, an alert's opening, last and
resolving run): a link to the wrong run shows up as a difference. Clock times,
ids, attempts and Airflow run ids are left out; dashboard links in alert
texts (``/runs/<id>``) are blanked.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from drift.store import tables as t

SCORE_COLUMNS = (
    "feature", "metric", "value", "value_corrected", "p_value", "p_adjusted", "n_current",
    "n_reference", "missing_rate", "severity", "warn_threshold", "critical_threshold",
    "smoothing", "alpha",
)  # fmt: skip
HISTOGRAM_COLUMNS = ("feature", "labels", "counts", "reference_counts", "contributions", "missing")
BASELINE_COLUMNS = (
    "feature", "kind", "binning_spec", "labels", "counts", "missing", "version",
    "reference_start", "reference_end",
)  # fmt: skip


def _value(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, str):
        return re.sub(r"/runs/\d+", "/runs/<id>", value)
    return value


def _rows(conn: sa.Connection, query: sa.Select[Any]) -> list[tuple[Any, ...]]:
    return sorted((tuple(_value(v) for v in row) for row in conn.execute(query)), key=repr)


def snapshot(url: str, monitor: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row of ``monitor`` that a rerun must reproduce, run links as windows."""
    r, s, h, a, n = t.run, t.score, t.histogram, t.alert, t.notification
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    opened, last, resolved = r.alias("opened"), r.alias("last"), r.alias("resolved")
    try:
        with engine.connect() as conn:
            return {
                "run": _rows(
                    conn,
                    sa.select(r.c.window_start, r.c.window_end, r.c.status, r.c.error).where(
                        r.c.monitor == monitor
                    ),
                ),
                "score": _rows(
                    conn,
                    sa.select(r.c.window_start, *(s.c[c] for c in SCORE_COLUMNS))
                    .join(r, r.c.id == s.c.run_id)
                    .where(s.c.monitor == monitor),
                ),
                "histogram": _rows(
                    conn,
                    sa.select(r.c.window_start, *(h.c[c] for c in HISTOGRAM_COLUMNS))
                    .join(r, r.c.id == h.c.run_id)
                    .where(r.c.monitor == monitor),
                ),
                "baseline": _rows(
                    conn,
                    sa.select(*(t.baseline.c[c] for c in BASELINE_COLUMNS)).where(
                        t.baseline.c.monitor == monitor
                    ),
                ),
                "alert": _rows(
                    conn,
                    sa.select(
                        a.c.feature,
                        a.c.severity,
                        a.c.state,
                        a.c.message,
                        a.c.resolved_reason,
                        opened.c.window_start,
                        last.c.window_start,
                        resolved.c.window_start,
                    )
                    .outerjoin(opened, opened.c.id == a.c.opened_run_id)
                    .outerjoin(last, last.c.id == a.c.last_run_id)
                    .outerjoin(resolved, resolved.c.id == a.c.resolved_run_id)
                    .where(a.c.monitor == monitor),
                ),
                "notification": _rows(
                    conn,
                    sa.select(
                        n.c.feature,
                        n.c.event,
                        n.c.severity,
                        n.c.channel,
                        n.c.title,
                        n.c.body,
                        n.c.suppressed_by,
                    ).where(n.c.monitor == monitor),
                ),
                "monitor": _rows(
                    conn,
                    sa.select(t.monitor.c.name, t.monitor.c.config, t.monitor.c.config_hash).where(
                        t.monitor.c.name == monitor
                    ),
                ),
            }
    finally:
        engine.dispose()


def integrity(url: str) -> dict[str, int]:
    """Counts that must all be 0: orphans, doubles and links to no run."""
    r, s, h, a = t.run, t.score, t.histogram, t.alert
    no_run = ~sa.exists().where(r.c.id == s.c.run_id)
    checks = {
        "scores without their run": sa.select(sa.func.count()).select_from(s).where(no_run),
        "histograms without their run": sa.select(sa.func.count())
        .select_from(h)
        .where(~sa.exists().where(r.c.id == h.c.run_id)),
        "scores filed under another window than their run's": sa.select(sa.func.count())
        .select_from(s.join(r, r.c.id == s.c.run_id))
        .where(sa.or_(s.c.window_start != r.c.window_start, s.c.window_end != r.c.window_end)),
        "alerts whose runs are gone": sa.select(sa.func.count())
        .select_from(a)
        .where(
            sa.or_(
                *(
                    sa.and_(col.is_not(None), ~sa.exists().where(r.c.id == col))
                    for col in (a.c.opened_run_id, a.c.last_run_id, a.c.resolved_run_id)
                )
            )
        ),
        "windows with more than one run": sa.select(sa.func.count()).select_from(
            sa.select(r.c.monitor)
            .group_by(r.c.monitor, r.c.window_start, r.c.window_end)
            .having(sa.func.count() > 1)
            .subquery()
        ),
    }
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return {name: int(conn.scalar(query) or 0) for name, query in checks.items()}
    finally:
        engine.dispose()


def differences(
    got: dict[str, list[tuple[Any, ...]]], want: dict[str, list[tuple[Any, ...]]]
) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Per table, the rows only in ``got`` (extra) and only in ``want`` (missing)."""
    out = {}
    for table in want:
        extra = [row for row in got.get(table, []) if row not in want[table]]
        missing = [row for row in want[table] if row not in got.get(table, [])]
        if extra or missing or len(got.get(table, [])) != len(want[table]):
            out[table] = {"extra": extra, "missing": missing}
    return out
