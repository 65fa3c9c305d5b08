"""Reads of the results store: what the dashboards and the alerts ask for.

Each read is one query, answered from an index: runs and scores by (monitor,
window end), a feature's series by (monitor, feature, segment, metric, window
end), the heatmap by (monitor, metric, window end), histograms by (run,
feature, segment), baselines by (monitor, version).

Reads of one feature's rows take a ``segment``: ``""`` (the default) is the
whole population, as every result was before segments; a segment's name
(``"country=BR"``) reads that segment's; ``None``, where offered, every
segment's. So a view of "the feature" never mixes in its segments.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from drift.store import tables as t
from drift.store.base import StoreBase
from drift.store.convert import loads
from drift.store.records import (
    BaselineRecord,
    HistogramRow,
    MonitorStatus,
    RunRow,
    ScorePoint,
)

__all__ = ["Reads"]


def _columns(table: sa.Table, record: type) -> list[sa.Column[Any]]:
    """``table``'s columns named as ``record``'s fields, in field order (rows map 1:1)."""
    return [table.c[f.name] for f in fields(record)]


_POINT = _columns(t.score, ScorePoint)
_RUN = _columns(t.run, RunRow)


class Reads(StoreBase):
    """The reading half of :class:`drift.store.ResultsStore` (times come back UTC-aware)."""

    def monitor_config(self, name: str) -> dict[str, Any] | None:
        """A monitor's stored definition, or ``None`` when the monitor is unknown."""
        m = t.monitor
        query = sa.select(m.c.config).where(m.c.name == name)
        text = self._read(lambda c: c.execute(query).scalar_one_or_none())
        return None if text is None else dict(loads(text))

    def baseline_in_force(self, monitor: str, segment: str | None = "") -> list[BaselineRecord]:
        """The latest baseline version of ``monitor``, one record per feature.

        Parameters
        ----------
        monitor : str
            The monitor.
        segment : str or None, default ""
            Whose reference counts: ``""`` the whole population, a segment's
            name that segment's, ``None`` every segment's (the whole version).

        Returns
        -------
        list of BaselineRecord
            By feature name (then segment); empty when the monitor has no
            baseline.
        """
        b = t.baseline
        latest = b.alias("latest")
        newest = (
            sa.select(sa.func.max(latest.c.version))
            .where(latest.c.monitor == monitor)
            .scalar_subquery()
        )
        query = sa.select(b).where(b.c.monitor == monitor, b.c.version == newest)
        if segment is not None:
            query = query.where(b.c.segment == segment)
        query = query.order_by(b.c.feature, b.c.segment)
        rows = self._read(lambda c: c.execute(query).all())
        return [_baseline(row) for row in rows]

    def runs(
        self, monitor: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[RunRow]:
        """The monitor's runs whose windows end in ``(start, end]``, oldest first."""
        r = t.run
        query = sa.select(*_RUN).where(r.c.monitor == monitor)
        if start is not None:
            query = query.where(r.c.window_end > start)
        if end is not None:
            query = query.where(r.c.window_end <= end)
        query = query.order_by(r.c.window_end, r.c.window_start)
        return [RunRow(*row) for row in self._read(lambda c: c.execute(query).all())]

    def run(self, run_id: int) -> RunRow | None:
        """One run by id, or ``None``."""
        query = sa.select(*_RUN).where(t.run.c.id == run_id)
        row = self._read(lambda c: c.execute(query).first())
        return None if row is None else RunRow(*row)

    def monitors_overview(
        self, name: str | None = None, *, until: datetime | None = None
    ) -> list[MonitorStatus]:
        """Every monitor (or only ``name``) with its latest run (by window end) and open alerts.

        With ``until``, the latest run is the latest whose window ends at or
        before it (a dashboard passes now, so a stored future window is not
        taken for the latest).

        Returns
        -------
        list of MonitorStatus
            By monitor name; a monitor that never ran has ``None`` for its
            latest window and status.
        """
        m, r, a = t.monitor, t.run, t.alert
        inner = r.alias("newest")
        latest_id = (
            sa.select(inner.c.id)
            .where(
                inner.c.monitor == m.c.name,
                sa.true() if until is None else inner.c.window_end <= until,
            )
            .order_by(inner.c.window_end.desc(), inner.c.window_start.desc())
            .limit(1)
            .scalar_subquery()
        )
        open_count = (
            sa.select(sa.func.count())
            .select_from(a)
            .where(a.c.state == "open", a.c.monitor == m.c.name)
            .scalar_subquery()
        )
        query = (
            sa.select(
                m.c.name, m.c.config_hash, r.c.id, r.c.window_start, r.c.window_end, r.c.status,
                open_count.label("open_alerts"),
            )
            .select_from(m)
            .outerjoin(r, r.c.id == latest_id)
            .order_by(m.c.name)
        )  # fmt: skip
        if name is not None:
            query = query.where(m.c.name == name)
        return [
            MonitorStatus(
                name=row.name, config_hash=row.config_hash,
                last_run_id=None if row.id is None else int(row.id),
                last_window_start=row.window_start, last_window_end=row.window_end,
                last_status=row.status,
                open_alerts=int(row.open_alerts or 0),
            )
            for row in self._read(lambda c: c.execute(query).all())
        ]  # fmt: skip

    def run_scores(self, run_id: int, segment: str | None = "") -> list[ScorePoint]:
        """The scores of one run, by feature, segment and metric.

        ``segment``: ``""`` the whole population's, a name that segment's,
        ``None`` every segment's.
        """
        s = t.score
        query = sa.select(*_POINT).where(s.c.run_id == run_id)
        if segment is not None:
            query = query.where(s.c.segment == segment)
        query = query.order_by(s.c.feature, s.c.segment, s.c.metric)
        return [ScorePoint(*row) for row in self._read(lambda c: c.execute(query).all())]

    def run_histograms(self, run_id: int, segment: str | None = "") -> list[HistogramRow]:
        """One run's histograms, each feature's live counts beside its reference's.

        Parameters
        ----------
        run_id : int
            The run.
        segment : str or None, default ""
            ``""`` the whole population's, a name that segment's, ``None``
            every segment's.

        Returns
        -------
        list of HistogramRow
            By feature (then segment); ``contributions`` are each bin's share
            of the divergence (NaN where it was not finite).
        """
        h = t.histogram
        query = sa.select(h).where(h.c.run_id == run_id)
        if segment is not None:
            query = query.where(h.c.segment == segment)
        query = query.order_by(h.c.feature, h.c.segment)
        return [_histogram(row) for row in self._read(lambda c: c.execute(query).all())]


def _baseline(row: Any) -> BaselineRecord:
    return BaselineRecord(
        monitor=row.monitor, feature=row.feature, kind=row.kind,
        binning_spec=loads(row.binning_spec), labels=tuple(loads(row.labels)),
        counts=tuple(loads(row.counts)), missing=int(row.missing),
        reference_start=row.reference_start, reference_end=row.reference_end,
        version=int(row.version), segment=row.segment,
    )  # fmt: skip


def _histogram(row: Any) -> HistogramRow:
    return HistogramRow(
        run_id=int(row.run_id), feature=row.feature, labels=tuple(loads(row.labels)),
        counts=tuple(loads(row.counts)), reference_counts=tuple(loads(row.reference_counts)),
        contributions=tuple(
            float("nan") if c is None else float(c) for c in loads(row.contributions)
        ),
        missing=int(row.missing), segment=row.segment,
    )  # fmt: skip
