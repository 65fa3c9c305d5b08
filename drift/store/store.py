"""The one class that reads and writes the results tables."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa

from drift.errors import StoreError
from drift.store import tables as t
from drift.store._convert import (
    dumps,
    from_db_time,
    loads,
    new_ids,
    number,
    to_db_time,
)
from drift.store.alert_rows import AlertRows
from drift.store.engine import make_engine, safe_url
from drift.store.records import (
    BaselineRecord,
    HistogramRow,
    MonitorStatus,
    RunRecord,
    RunRow,
    ScorePoint,
)

__all__ = ["ResultsStore"]

T = TypeVar("T")

#: Attempts of a write transaction that lost a race (unique key, lock, conflict).
WRITE_ATTEMPTS = 5


def _aware(value: datetime | None) -> datetime:
    out = from_db_time(value)
    assert out is not None
    return out


class ResultsStore(AlertRows):
    """Reads and writes the ``drift_*`` results tables.

    Parameters
    ----------
    url_or_engine : str or sqlalchemy.Engine
        The results database. The tables must exist (``drift db upgrade``).

    Notes
    -----
    Every write is one transaction: a run's row, scores and histograms are
    replaced together, so a crash leaves the previous state and a re-run
    never duplicates. A transaction that loses a race (two writers of one
    window) is retried; the unique key on (monitor, window) keeps one row.
    Times go in as timezone-aware datetimes (naive ones are taken as UTC)
    and always come out timezone-aware UTC.
    """

    def __init__(self, url_or_engine: str | sa.URL | sa.Engine) -> None:
        if isinstance(url_or_engine, sa.Engine):
            self.engine, self._owned = url_or_engine, False
        else:
            self.engine, self._owned = make_engine(url_or_engine), True
        self.url = safe_url(self.engine.url)

    def close(self) -> None:
        """Release the engine's connections (when this store created it)."""
        if self._owned:
            self.engine.dispose()

    def __repr__(self) -> str:
        return f"ResultsStore({self.url!r})"

    def _write(self, action: Callable[[sa.Connection], T]) -> T:
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.engine.begin() as conn:
                    return action(conn)
            except (sa.exc.IntegrityError, sa.exc.OperationalError, sa.exc.DBAPIError) as exc:
                if attempt + 1 == WRITE_ATTEMPTS or not _retryable(exc):
                    raise self._error("write to", exc) from exc
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _read(self, action: Callable[[sa.Connection], T]) -> T:
        try:
            with self.engine.connect() as conn:
                return action(conn)
        except sa.exc.DBAPIError as exc:
            raise self._error("read from", exc) from exc

    def _error(self, verb: str, exc: Exception) -> StoreError:
        text = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
        missing = any(
            w in text.lower()
            for w in ("no such table", "does not exist", "doesn't exist", "not found")
        )
        hint = (
            f"; the results tables are missing: run `drift db upgrade --url {self.url}`"
            if missing
            else ""
        )
        return StoreError(f"could not {verb} the results database at {self.url}: {text}{hint}")

    # -- monitors and baselines ------------------------------------------------

    def save_monitor(self, name: str, config: Mapping[str, Any]) -> None:
        """Record a monitor's definition (insert, or update when it changed)."""
        text = dumps(config)
        digest = hashlib.sha256(text.encode()).hexdigest()
        now = to_db_time(datetime.now(UTC))

        def action(conn: sa.Connection) -> None:
            row = conn.execute(
                sa.select(t.monitor.c.id, t.monitor.c.config_hash).where(t.monitor.c.name == name)
            ).first()
            if row is None:
                conn.execute(
                    t.monitor.insert().values(
                        id=new_ids(1)[0], name=name, config=text, config_hash=digest,
                        created_at=now, updated_at=now,
                    )
                )  # fmt: skip
            elif row.config_hash != digest:
                conn.execute(
                    t.monitor.update()
                    .where(t.monitor.c.id == row.id)
                    .values(config=text, config_hash=digest, updated_at=now)
                )

        self._write(action)

    def monitor_config(self, name: str) -> dict[str, Any] | None:
        """A monitor's stored definition, or ``None`` when unknown."""
        text = self._read(
            lambda c: c.execute(
                sa.select(t.monitor.c.config).where(t.monitor.c.name == name)
            ).scalar_one_or_none()
        )
        return None if text is None else dict(loads(text))

    def save_baseline(self, monitor: str, records: Sequence[BaselineRecord]) -> int:
        """Store ``records`` as the monitor's next baseline version and return it."""
        now = to_db_time(datetime.now(UTC))

        def action(conn: sa.Connection) -> int:
            latest = conn.execute(
                sa.select(sa.func.max(t.baseline.c.version)).where(t.baseline.c.monitor == monitor)
            ).scalar_one_or_none()
            version = int(latest or 0) + 1
            ids = new_ids(len(records))
            if records:
                conn.execute(
                    t.baseline.insert(),
                    [
                        {
                            "id": ids[i], "monitor": monitor, "feature": r.feature,
                            "version": version, "kind": r.kind,
                            "binning_spec": dumps(dict(r.binning_spec)),
                            "labels": dumps(list(r.labels)), "counts": dumps(list(r.counts)),
                            "missing": r.missing,
                            "reference_start": to_db_time(r.reference_start),
                            "reference_end": to_db_time(r.reference_end), "created_at": now,
                        }
                        for i, r in enumerate(records)
                    ],
                )  # fmt: skip
            return version

        return self._write(action)

    def baseline_in_force(self, monitor: str) -> list[BaselineRecord]:
        """The latest baseline version's records for ``monitor`` (empty if none)."""
        b = t.baseline
        latest = sa.select(sa.func.max(b.c.version)).where(b.c.monitor == monitor).scalar_subquery()
        query = sa.select(b).where(b.c.monitor == monitor, b.c.version == latest).order_by(b.c.id)
        rows = self._read(lambda c: c.execute(query).all())
        return [
            BaselineRecord(
                monitor=r.monitor, feature=r.feature, kind=r.kind,
                binning_spec=loads(r.binning_spec), labels=tuple(loads(r.labels)),
                counts=tuple(loads(r.counts)), missing=int(r.missing),
                reference_start=from_db_time(r.reference_start),
                reference_end=from_db_time(r.reference_end), version=int(r.version),
            )
            for r in rows
        ]  # fmt: skip

    # -- runs ------------------------------------------------------------------

    def write_run(self, record: RunRecord) -> int:
        """Write one window's run, scores and histograms, replacing any earlier ones.

        Returns
        -------
        int
            The run's id (kept when a window is written again).
        """
        start, end = to_db_time(record.window_start), to_db_time(record.window_end)
        if start is None or end is None or start >= end:
            raise ValueError(f"window [{start}, {end}) must have start < end.")

        def action(conn: sa.Connection) -> int:
            values = {
                "status": record.status,
                "error": record.error,
                "started_at": to_db_time(record.started_at),
                "finished_at": to_db_time(record.finished_at),
                "duration_seconds": number(record.duration_seconds),
                "airflow_run_id": record.airflow_run_id,
                "written_at": to_db_time(datetime.now(UTC)),
            }
            run_id = conn.execute(
                sa.select(t.run.c.id).where(
                    t.run.c.monitor == record.monitor,
                    t.run.c.window_start == start,
                    t.run.c.window_end == end,
                )
            ).scalar_one_or_none()
            if run_id is None:
                run_id = new_ids(1)[0]
                conn.execute(
                    t.run.insert().values(
                        id=run_id, monitor=record.monitor, window_start=start, window_end=end,
                        **values,
                    )
                )  # fmt: skip
            else:
                conn.execute(t.score.delete().where(t.score.c.run_id == run_id))
                conn.execute(t.histogram.delete().where(t.histogram.c.run_id == run_id))
                conn.execute(t.run.update().where(t.run.c.id == run_id).values(**values))
            self._insert_scores(conn, int(run_id), record, start, end)
            self._insert_histograms(conn, int(run_id), record)
            return int(run_id)

        return self._write(action)

    def _insert_scores(
        self, conn: sa.Connection, run_id: int, record: RunRecord, start: datetime, end: datetime
    ) -> None:
        if not record.scores:
            return
        ids = new_ids(len(record.scores))
        conn.execute(
            t.score.insert(),
            [
                {
                    "id": ids[i], "run_id": run_id, "monitor": record.monitor,
                    "feature": s.feature, "metric": s.metric, "window_start": start,
                    "window_end": end, "value": number(s.value),
                    "value_corrected": number(s.value_corrected),
                    "p_value": number(s.p_value), "p_adjusted": number(s.p_adjusted),
                    "n_current": s.n_current, "n_reference": s.n_reference,
                    "missing_rate": number(s.missing_rate) or 0.0, "severity": s.severity,
                    "warn_threshold": number(s.warn_threshold),
                    "critical_threshold": number(s.critical_threshold),
                    "smoothing": s.smoothing, "alpha": s.alpha,
                }
                for i, s in enumerate(record.scores)
            ],
        )  # fmt: skip

    def _insert_histograms(self, conn: sa.Connection, run_id: int, record: RunRecord) -> None:
        if not record.histograms:
            return
        ids = new_ids(len(record.histograms))
        conn.execute(
            t.histogram.insert(),
            [
                {
                    "id": ids[i], "run_id": run_id, "feature": h.feature,
                    "labels": dumps(list(h.labels)), "counts": dumps(list(h.counts)),
                    "reference_counts": dumps(list(h.reference_counts)),
                    "contributions": dumps([number(c) for c in h.contributions]),
                    "missing": h.missing,
                }
                for i, h in enumerate(record.histograms)
            ],
        )  # fmt: skip

    def runs(
        self, monitor: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[RunRow]:
        """The monitor's runs whose windows end in ``(start, end]``, oldest first."""
        r = t.run
        query = sa.select(r).where(r.c.monitor == monitor)
        if start is not None:
            query = query.where(r.c.window_end > to_db_time(start))
        if end is not None:
            query = query.where(r.c.window_end <= to_db_time(end))
        rows = self._read(lambda c: c.execute(query.order_by(r.c.window_end)).all())
        return [_run_row(row) for row in rows]

    def run(self, run_id: int) -> RunRow | None:
        """One run by id, or ``None``."""
        row = self._read(lambda c: c.execute(sa.select(t.run).where(t.run.c.id == run_id)).first())
        return None if row is None else _run_row(row)

    def monitors_overview(self) -> list[MonitorStatus]:
        """Every monitor with its latest run's window and status and its open alerts."""
        m, r, a = t.monitor, t.run, t.alert
        inner = r.alias("latest")
        latest_end = (
            sa.select(sa.func.max(inner.c.window_end))
            .where(inner.c.monitor == m.c.name)
            .scalar_subquery()
        )
        open_count = (
            sa.select(sa.func.count())
            .where(a.c.monitor == m.c.name, a.c.state == "open")
            .scalar_subquery()
        )
        query = (
            sa.select(
                m.c.name, m.c.config_hash, r.c.window_start, r.c.window_end, r.c.status,
                open_count.label("open_alerts"),
            )
            .select_from(m)
            .outerjoin(r, sa.and_(r.c.monitor == m.c.name, r.c.window_end == latest_end))
            .order_by(m.c.name)
        )  # fmt: skip
        rows = self._read(lambda c: c.execute(query).all())
        return [
            MonitorStatus(
                name=row.name, config_hash=row.config_hash,
                last_window_start=from_db_time(row.window_start),
                last_window_end=from_db_time(row.window_end), last_status=row.status,
                open_alerts=int(row.open_alerts or 0),
            )
            for row in rows
        ]  # fmt: skip

    def metric_series(
        self, monitor: str, feature: str, metric: str, start: datetime, end: datetime
    ) -> list[ScorePoint]:
        """One feature's metric over the windows ending in ``(start, end]``, oldest first."""
        s = t.score
        query = (
            sa.select(s)
            .where(
                s.c.monitor == monitor, s.c.feature == feature, s.c.metric == metric,
                s.c.window_end > to_db_time(start), s.c.window_end <= to_db_time(end),
            )
            .order_by(s.c.window_end)
        )  # fmt: skip
        return [_point(row) for row in self._read(lambda c: c.execute(query).all())]

    def heatmap(
        self, monitor: str, metric: str, start: datetime, end: datetime
    ) -> list[ScorePoint]:
        """Every feature's metric over the windows ending in ``(start, end]``."""
        s = t.score
        query = (
            sa.select(s)
            .where(
                s.c.monitor == monitor, s.c.metric == metric,
                s.c.window_end > to_db_time(start), s.c.window_end <= to_db_time(end),
            )
            .order_by(s.c.window_end, s.c.feature)
        )  # fmt: skip
        return [_point(row) for row in self._read(lambda c: c.execute(query).all())]

    def run_scores(self, run_id: int) -> list[ScorePoint]:
        """Every score of one run, by feature and metric."""
        s = t.score
        query = sa.select(s).where(s.c.run_id == run_id).order_by(s.c.feature, s.c.metric)
        return [_point(row) for row in self._read(lambda c: c.execute(query).all())]

    def run_histograms(self, run_id: int) -> list[HistogramRow]:
        """One run's histograms, live counts beside the reference counts."""
        h = t.histogram
        query = sa.select(h).where(h.c.run_id == run_id).order_by(h.c.feature)
        return [
            HistogramRow(
                run_id=int(row.run_id), feature=row.feature, labels=tuple(loads(row.labels)),
                counts=tuple(loads(row.counts)),
                reference_counts=tuple(loads(row.reference_counts)),
                contributions=tuple(
                    float("nan") if c is None else float(c) for c in loads(row.contributions)
                ),
                missing=int(row.missing),
            )
            for row in self._read(lambda c: c.execute(query).all())
        ]  # fmt: skip

    # -- retention -------------------------------------------------------------

    def prune(self, older_than: timedelta, *, now: datetime | None = None) -> int:
        """Delete runs whose window ended before ``now - older_than``, with their rows.

        Baselines and alerts are never deleted, nor a run an open alert
        points to. Returns the number of runs deleted.
        """
        if older_than <= timedelta(0):
            raise ValueError(f"`older_than` must be positive, got {older_than}.")
        cutoff = to_db_time((now or datetime.now(UTC)) - older_than)

        def action(conn: sa.Connection) -> int:
            r, a = t.run, t.alert
            kept = (
                sa.select(a.c.opened_run_id)
                .where(a.c.state == "open", a.c.opened_run_id.is_not(None))
                .union(
                    sa.select(a.c.last_run_id).where(
                        a.c.state == "open", a.c.last_run_id.is_not(None)
                    )
                )
            )
            held = {int(x) for x in conn.execute(kept).scalars()}
            doomed = [
                int(x)
                for x in conn.execute(sa.select(r.c.id).where(r.c.window_end < cutoff)).scalars()
                if int(x) not in held
            ]
            for chunk in range(0, len(doomed), 500):
                ids = doomed[chunk : chunk + 500]
                conn.execute(t.score.delete().where(t.score.c.run_id.in_(ids)))
                conn.execute(t.histogram.delete().where(t.histogram.c.run_id.in_(ids)))
                conn.execute(r.delete().where(r.c.id.in_(ids)))
            return len(doomed)

        return self._write(action)


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, sa.exc.IntegrityError):
        return True
    text = str(getattr(exc, "orig", exc)).lower()
    return any(
        word in text
        for word in (
            "locked",
            "deadlock",
            "conflict",
            "could not serialize",
            "lock wait",
            "duplicate key",
        )
    )


def _run_row(row: Any) -> RunRow:
    return RunRow(
        id=int(row.id), monitor=row.monitor, window_start=_aware(row.window_start),
        window_end=_aware(row.window_end), status=row.status, error=row.error,
        started_at=from_db_time(row.started_at), finished_at=from_db_time(row.finished_at),
        duration_seconds=row.duration_seconds, airflow_run_id=row.airflow_run_id,
    )  # fmt: skip


def _point(row: Any) -> ScorePoint:
    return ScorePoint(
        run_id=int(row.run_id), feature=row.feature, metric=row.metric,
        window_start=_aware(row.window_start), window_end=_aware(row.window_end),
        value=row.value, value_corrected=row.value_corrected, p_value=row.p_value,
        p_adjusted=row.p_adjusted, severity=row.severity, n_current=int(row.n_current),
        n_reference=int(row.n_reference), warn_threshold=row.warn_threshold,
        critical_threshold=row.critical_threshold,
    )  # fmt: skip
