"""Summarised reads for dashboards: long ranges aggregated in SQL, not in Python.

A year of hourly runs of 50 features is 438,000 score rows per metric;
turning each into a Python object costs about 12 µs, so a chart of a long
range would take seconds. These reads let the database group windows into
time buckets (the window end's :class:`drift.sql.timekeys.WindowIndex`) and return at most a
few hundred points per feature, keeping the worst value of each bucket:
drift that happened inside a bucket is never averaged away.

Grids and series of features are the whole population's (segment ``""``)
unless a ``segment`` is named, so a feature's row never mixes in its
segments; a run's worst severity (:meth:`Summaries.latest_runs`) is over
every segment, as anything judged may drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from drift.store import tables as t
from drift.store.base import StoreBase
from drift.store.convert import from_db_time
from drift.store.grids import (
    SEVERITY_BY_RANK,
    SEVERITY_RANK,
    Bucketed,
    bucket,
    bucket_width,
    headline,
    reorder,
    severity_rank,
    to_grid,
)
from drift.store.records import AlertRow
from drift.store.segments import segment_order

__all__ = ["SEVERITY_RANK", "Bucketed", "RunAlerts", "Summaries"]


@dataclass(frozen=True, slots=True)
class RunAlerts:
    """The alerts a run opened, updated or resolved, and what was sent about them."""

    alerts: tuple[AlertRow, ...]
    notifications: tuple[dict[str, Any], ...]


class Summaries(StoreBase):
    """Dashboard reads of :class:`drift.store.ResultsStore` (aggregated in SQL)."""

    def count_runs(self, monitor: str, start: datetime, end: datetime) -> int:
        """How many runs of ``monitor`` have windows ending in ``(start, end]``."""
        r = t.run
        query = (
            sa.select(sa.func.count())
            .select_from(r)
            .where(r.c.monitor == monitor, r.c.window_end > start, r.c.window_end <= end)
        )
        return int(self._read(lambda c: c.execute(query).scalar_one()))

    def latest_runs(
        self, monitor: str, start: datetime, end: datetime, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` runs ending in ``(start, end]`` after skipping ``offset``.

        Newest first, each with its worst severity over every feature and segment.
        """
        r, s = t.run, t.score
        worst = (
            sa.select(sa.func.max(severity_rank(s.c.severity)))
            .where(s.c.run_id == r.c.id)
            .scalar_subquery()
        )
        query = (
            sa.select(
                r.c.id, r.c.window_start, r.c.window_end, r.c.status, r.c.error,
                r.c.duration_seconds, worst.label("worst"),
            )
            .where(r.c.monitor == monitor, r.c.window_end > start, r.c.window_end <= end)
            .order_by(r.c.window_end.desc(), r.c.window_start.desc())
            .limit(limit)
            .offset(offset)
        )  # fmt: skip
        return [
            {
                "id": int(row.id), "window_start": row.window_start, "window_end": row.window_end,
                "status": row.status, "error": row.error, "duration_seconds": row.duration_seconds,
                "severity": None if row.worst is None else SEVERITY_BY_RANK.get(int(row.worst)),
            }
            for row in self._read(lambda c: c.execute(query).all())
        ]  # fmt: skip

    def sparkline(
        self, monitor: str, metric: str = "kl", points: int = 30
    ) -> list[tuple[datetime, datetime, float | None]]:
        """(window start, window end, worst ``metric`` over features) of the last ``points``.

        The whole population's features (segment ``""``).
        """
        s = t.score
        ours = sa.and_(s.c.monitor == monitor, s.c.metric == metric, s.c.segment == "")
        # The oldest of the latest `points` window ends (or of all, when fewer), read off the
        # (monitor, metric, window_end) index backwards, bounds the scan: without it every
        # window the monitor ever had is grouped before the LIMIT.
        ends = sa.select(s.c.window_end).where(ours).distinct().order_by(s.c.window_end.desc())
        nth = ends.offset(points - 1).limit(1).scalar_subquery()
        first = sa.func.coalesce(
            nth, sa.select(sa.func.min(s.c.window_end)).where(ours).scalar_subquery()
        )
        query = (
            sa.select(sa.func.min(s.c.window_start), s.c.window_end, sa.func.max(headline(s)))
            .where(ours, s.c.window_end >= first)
            .group_by(s.c.window_end)
            .order_by(s.c.window_end.desc())
            .limit(points)
        )
        rows = self._read(lambda c: c.execute(query).all())
        return [(start, end, None if v is None else float(v)) for start, end, v in reversed(rows)]

    def latest_end_with_data(self, monitor: str, until: datetime) -> datetime | None:
        """The end of ``monitor``'s latest window up to ``until`` that had live rows."""
        s = t.score
        query = sa.select(sa.func.max(s.c.window_end)).where(
            s.c.monitor == monitor, s.c.n_current > 0, s.c.window_end <= until
        )
        return from_db_time(self._read(lambda c: c.execute(query).scalar_one_or_none()))

    def severity_strip(self, monitor: str, windows: int = 14) -> Bucketed:
        """Each feature's worst severity in each of ``monitor``'s last ``windows`` runs.

        One query: the latest runs as a derived table joined to their scores
        (MariaDB takes no ``LIMIT`` inside ``IN``, but does in a join). Values
        are the headline (bias-corrected KL, else the value), of the whole
        population (segment ``""``).
        """
        r, s = t.run, t.score
        latest = (
            sa.select(r.c.id)
            .where(r.c.monitor == monitor)
            .order_by(r.c.window_end.desc(), r.c.window_start.desc())
            .limit(windows)
            .subquery("latest")
        )
        query = (
            sa.select(
                s.c.feature, s.c.window_end, sa.func.min(s.c.window_start),
                sa.func.max(headline(s)), sa.func.max(severity_rank(s.c.severity)), s.c.run_id,
            )
            .join(latest, latest.c.id == s.c.run_id)
            .where(s.c.segment == "")
            .group_by(s.c.feature, s.c.window_end, s.c.run_id)
        )  # fmt: skip
        return to_grid(self._read(lambda c: c.execute(query).all()), None)

    def metrics_of(self, monitor: str, run_id: int | None) -> list[str]:
        """The metrics stored for ``monitor``'s run ``run_id`` (its latest, say), sorted."""
        if run_id is None:
            return []
        s = t.score
        query = sa.select(s.c.metric).where(s.c.run_id == run_id).distinct().order_by(s.c.metric)
        return [str(m) for m in self._read(lambda c: c.execute(query).scalars().all())]

    def heatmap_grid(
        self,
        monitor: str,
        metric: str,
        start: datetime,
        end: datetime,
        *,
        limit: int = 200,
        segment: str = "",
    ) -> Bucketed:
        """Every feature's ``metric`` over ``(start, end]``, in at most ``limit`` columns.

        With more windows than ``limit``, windows are grouped into buckets of
        whole hours and each cell holds the bucket's largest value and worst
        severity. The features of one ``segment`` (default the whole population).
        """
        s = t.score
        only = sa.and_(s.c.metric == metric, s.c.segment == segment)
        return self._grid_of(s.c.feature, only, monitor, start, end, limit)

    def feature_series(
        self,
        monitor: str,
        feature: str,
        start: datetime,
        end: datetime,
        *,
        limit: int = 500,
        segment: str = "",
    ) -> Bucketed:
        """Every stored metric of one feature over ``(start, end]``, ``limit`` points at most.

        The feature in one ``segment`` (default the whole population).
        """
        s = t.score
        only = sa.and_(s.c.feature == feature, s.c.segment == segment)
        return self._grid_of(s.c.metric, only, monitor, start, end, limit)

    def segment_series(
        self,
        monitor: str,
        feature: str,
        metric: str,
        start: datetime,
        end: datetime,
        *,
        limit: int = 200,
    ) -> Bucketed:
        """One feature's ``metric`` in each of its segments over ``(start, end]``.

        The feature's history per segment: ``names`` are the segments (``""``,
        the whole population, first; then by name, the lumped ``<other>``
        last), bucketed as :meth:`heatmap_grid`.
        """
        s = t.score
        only = sa.and_(s.c.feature == feature, s.c.metric == metric)
        grid = self._grid_of(s.c.segment, only, monitor, start, end, limit)
        return reorder(grid, segment_order((name, 0) for name in grid.names))

    def _grid_of(
        self,
        series: sa.ColumnElement[Any],
        only: sa.ColumnElement[bool],
        monitor: str,
        start: datetime,
        end: datetime,
        limit: int,
    ) -> Bucketed:
        """Scores of ``monitor`` matching ``only``, one row per ``series`` value, bucketed."""
        s = t.score
        width = bucket_width(start, end, self.count_runs(monitor, start, end), limit)
        where = (s.c.monitor == monitor, only, s.c.window_end > start, s.c.window_end <= end)
        if width is None:
            query = sa.select(
                series, s.c.window_end, s.c.window_start, headline(s),
                severity_rank(s.c.severity), s.c.run_id,
            ).where(*where)  # fmt: skip
        else:
            key = bucket(s.c.window_end, start, width).label("bucket")
            query = (
                sa.select(
                    series, sa.func.max(s.c.window_end), sa.func.min(s.c.window_start),
                    sa.func.max(headline(s)),
                    sa.func.max(severity_rank(s.c.severity)), sa.null(),
                )
                .where(*where)
                .group_by(series, key)
            )  # fmt: skip
        rows = self._read(lambda c: c.execute(query).all())
        return to_grid(rows, width)

    def thresholds_of(self, run_id: int | None) -> dict[str, tuple[float | None, float | None]]:
        """The warn and critical thresholds in force per metric in run ``run_id``."""
        if run_id is None:
            return {}
        s = t.score
        query = (
            sa.select(
                s.c.metric, sa.func.max(s.c.warn_threshold), sa.func.max(s.c.critical_threshold)
            )
            .where(s.c.run_id == run_id)
            .group_by(s.c.metric)
        )  # fmt: skip
        return {
            str(metric): (warn, critical)
            for metric, warn, critical in self._read(lambda c: c.execute(query).all())
            if warn is not None or critical is not None
        }

    def alert_markers(self, monitor: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Alerts opened by runs whose windows end in ``(start, end]``, with that window end."""
        a, r = t.alert, t.run
        query = (
            sa.select(a.c.id, a.c.feature, a.c.segment, a.c.severity, a.c.state, a.c.message,
                      r.c.window_end, r.c.window_start, r.c.id.label("run_id"))
            .join(r, r.c.id == a.c.opened_run_id)
            .where(a.c.monitor == monitor, r.c.window_end > start, r.c.window_end <= end)
            .order_by(r.c.window_end, a.c.feature, a.c.segment)
        )  # fmt: skip
        return [
            {
                "id": int(row.id), "feature": row.feature, "segment": row.segment,
                "severity": row.severity,
                "state": row.state, "message": row.message, "window_end": row.window_end,
                "window_start": row.window_start, "run_id": int(row.run_id),
            }
            for row in self._read(lambda c: c.execute(query).all())
        ]  # fmt: skip

    def run_alerts(self, run_id: int) -> RunAlerts:
        """Alerts opened, updated or resolved by run ``run_id``, and their notifications."""
        from drift.store.alert_rows import alert_row

        a, n = t.alert, t.notification
        query = (
            sa.select(a)
            .where(
                sa.or_(
                    a.c.opened_run_id == run_id,
                    a.c.last_run_id == run_id,
                    a.c.resolved_run_id == run_id,
                )
            )
            .order_by(a.c.feature, a.c.segment, a.c.id)
        )
        alerts = tuple(alert_row(row) for row in self._read(lambda c: c.execute(query).all()))
        if not alerts:
            return RunAlerts((), ())
        sent = (
            sa.select(n.c.alert_id, n.c.event, n.c.severity, n.c.title, n.c.body, n.c.sent_at,
                      n.c.attempts, n.c.last_error)
            .where(n.c.alert_id.in_([x.id for x in alerts]))
            .order_by(n.c.created_at, n.c.key)
        )  # fmt: skip
        notes = tuple(
            {
                "alert_id": int(row.alert_id), "event": row.event, "severity": row.severity,
                "title": row.title, "body": row.body, "sent_at": from_db_time(row.sent_at),
                "attempts": int(row.attempts), "last_error": row.last_error,
            }
            for row in self._read(lambda c: c.execute(sent).all())
        )  # fmt: skip
        return RunAlerts(alerts, notes)

    def neighbour_runs(self, monitor: str, window_end: datetime) -> tuple[int | None, int | None]:
        """The ids of the runs just before and just after the window ending at ``window_end``."""
        r = t.run
        before = (
            sa.select(r.c.id)
            .where(r.c.monitor == monitor, r.c.window_end < window_end)
            .order_by(r.c.window_end.desc())
            .limit(1)
        )
        after = (
            sa.select(r.c.id)
            .where(r.c.monitor == monitor, r.c.window_end > window_end)
            .order_by(r.c.window_end)
            .limit(1)
        )

        def both(c: sa.Connection) -> tuple[int | None, int | None]:
            return c.execute(before).scalar_one_or_none(), c.execute(after).scalar_one_or_none()

        return self._read(both)
