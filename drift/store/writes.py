"""Writes of the results store: monitors, baselines, runs and retention."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa

from drift.store import tables as t
from drift.store.base import StoreBase
from drift.store.convert import dumps, loads, new_ids, number, to_db_time
from drift.store.engine import mask_passwords
from drift.store.records import RUN_STATUSES, BaselineRecord, RunRecord

__all__ = ["Writes"]

#: Rows per DELETE ... IN (...) when pruning, under every dialect's parameter limit.
_PRUNE_CHUNK = 500
#: Runs per prune transaction: about 12,000 score and histogram rows of a 20-feature monitor.
_PRUNE_BATCH = 200


class Writes(StoreBase):
    """The writing half of :class:`drift.store.ResultsStore`."""

    def save_monitor(self, name: str, config: Mapping[str, Any]) -> str:
        """Record a monitor's definition: insert it, or update it when it changed.

        Parameters
        ----------
        name : str
            The monitor's name (unique).
        config : mapping
            Its definition, JSON-ready; stored as canonical JSON (sorted keys),
            with the password of any URL in it masked (``scheme://user:***@``)
            and Apprise channel URLs cut to their scheme (``slack://***``).

        Returns
        -------
        str
            The SHA-256 hex digest of the canonical JSON, the config hash.
        """
        text = dumps(_without_secrets(config))
        digest = hashlib.sha256(text.encode()).hexdigest()
        now = to_db_time(datetime.now(UTC))
        m = t.monitor

        def action(conn: sa.Connection) -> None:
            row = conn.execute(sa.select(m.c.id, m.c.config_hash).where(m.c.name == name)).first()
            if row is None:
                conn.execute(
                    m.insert().values(
                        id=new_ids(1)[0], name=name, config=text, config_hash=digest,
                        created_at=now, updated_at=now,
                    )
                )  # fmt: skip
            elif row.config_hash != digest:
                conn.execute(
                    m.update()
                    .where(m.c.id == row.id)
                    .values(config=text, config_hash=digest, updated_at=now)
                )

        self._write(action)
        return digest

    def save_baseline(self, monitor: str, records: Sequence[BaselineRecord]) -> int:
        """Store ``records`` as the monitor's baseline, as a new version if anything changed.

        Parameters
        ----------
        monitor : str
            The monitor the baseline belongs to.
        records : sequence of BaselineRecord
            One record per feature and segment: the whole baseline (features
            and segments left out are not part of the new version). Their
            ``version`` is ignored.

        Returns
        -------
        int
            The version in force afterwards: the current one when ``records``
            hold the same features, segments, kinds, binnings, labels, counts
            and reference windows (nothing is written), else the next one.
        """
        now = to_db_time(datetime.now(UTC))
        rows = [_baseline_values(monitor, r) for r in records]
        b = t.baseline

        def action(conn: sa.Connection) -> int:
            latest = b.alias("latest")
            newest = (
                sa.select(sa.func.max(latest.c.version))
                .where(latest.c.monitor == monitor)
                .scalar_subquery()
            )
            stored = conn.execute(
                sa.select(b).where(b.c.monitor == monitor, b.c.version == newest)
            ).all()
            version = max((int(s.version) for s in stored), default=0)
            if stored and _same_baseline(stored, rows):
                return version
            ids = new_ids(len(rows))
            if rows:
                conn.execute(
                    b.insert(),
                    [
                        {**row, "id": ids[i], "version": version + 1, "created_at": now}
                        for i, row in enumerate(rows)
                    ],
                )
            return version + 1

        return self._write(action)

    def write_run(self, record: RunRecord) -> int:
        """Write one window's run, scores and histograms, replacing what that window had.

        Parameters
        ----------
        record : RunRecord
            The run. Its window is the key: writing the same monitor and
            window again replaces the run's row, scores and histograms (of
            every segment: segments the new record lacks are gone too).

        Returns
        -------
        int
            The run's id (kept when a window is written again).

        Raises
        ------
        ValueError
            If the window is empty or the status is not one of ``ok``,
            ``insufficient_data`` or ``error``.
        drift.errors.StoreError
            If the database refuses the write; nothing of it is kept then.

        Notes
        -----
        One transaction: a failure half way leaves the previous state. Two
        writers of one window race on the unique key (monitor, window); the
        loser's transaction is rolled back and retried, and then finds and
        replaces the winner's run, so one run row and one set of scores remain.
        """
        start, end = to_db_time(record.window_start), to_db_time(record.window_end)
        if start is None or end is None or start >= end:
            raise ValueError(f"the window [{start}, {end}) must have start < end.")
        if record.status not in RUN_STATUSES:
            raise ValueError(
                f"`status` must be one of {', '.join(RUN_STATUSES)}, got {record.status!r}."
            )
        r = t.run

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
            key = (r.c.monitor == record.monitor, r.c.window_start == start, r.c.window_end == end)
            run_id = conn.execute(sa.select(r.c.id).where(*key)).scalar_one_or_none()
            if run_id is None:
                run_id = new_ids(1)[0]
                conn.execute(
                    r.insert().values(
                        id=run_id, monitor=record.monitor, window_start=start, window_end=end,
                        **values,
                    )
                )  # fmt: skip
            else:
                conn.execute(t.score.delete().where(t.score.c.run_id == run_id))
                conn.execute(t.histogram.delete().where(t.histogram.c.run_id == run_id))
                conn.execute(r.update().where(r.c.id == run_id).values(**values))
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
                    "feature": s.feature, "segment": s.segment, "metric": s.metric,
                    "window_start": start,
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
                    "id": ids[i], "run_id": run_id, "feature": h.feature, "segment": h.segment,
                    "labels": dumps(list(h.labels)), "counts": dumps(list(h.counts)),
                    "reference_counts": dumps(list(h.reference_counts)),
                    "contributions": dumps([number(c) for c in h.contributions]),
                    "missing": h.missing,
                }
                for i, h in enumerate(record.histograms)
            ],
        )  # fmt: skip

    def prune(
        self, older_than: timedelta, *, now: datetime | None = None, batch: int = _PRUNE_BATCH
    ) -> int:
        """Delete runs whose window ended more than ``older_than`` ago, with their rows.

        Parameters
        ----------
        older_than : datetime.timedelta
            Age of the window end beyond which a run goes; must be positive.
        now : datetime, optional
            The present (default: the clock); for tests and replays.
        batch : int, optional
            Runs deleted per transaction (with their scores and histograms).

        Returns
        -------
        int
            How many runs were deleted (their scores and histograms went too).

        Notes
        -----
        Baselines and alerts are never deleted, and neither is a run that an
        open alert opened on or last saw, so an incident can still be explained.

        The runs go in batches of ``batch``, oldest ids first, each batch its
        own short transaction that looks up again which runs open alerts hold:
        a writer waits at most for one batch (milliseconds), never for the
        whole prune, and an interrupted prune has deleted whole runs only.
        """
        if older_than <= timedelta(0):
            raise ValueError(f"`older_than` must be a positive duration, got {older_than}.")
        if batch < 1:
            raise ValueError(f"`batch` must be a positive number of runs, got {batch}.")
        cutoff = to_db_time((now or datetime.now(UTC)) - older_than)
        r, a = t.run, t.alert
        is_open = a.c.state == "open"
        held = sa.union(
            sa.select(a.c.opened_run_id.label("id")).where(is_open, a.c.opened_run_id.is_not(None)),
            sa.select(a.c.last_run_id.label("id")).where(is_open, a.c.last_run_id.is_not(None)),
        )

        def one_batch(conn: sa.Connection, after: int) -> tuple[int, int | None]:
            """Delete the next ``batch`` due runs with ids above ``after``: (deleted, last id)."""
            kept = {int(x) for x in conn.execute(held).scalars()}
            due = (
                sa.select(r.c.id)
                .where(r.c.window_end < cutoff, r.c.id > after)
                .order_by(r.c.id)
                .limit(batch + len(kept))
            )
            found = [int(x) for x in conn.execute(due).scalars()]
            ids = [x for x in found if x not in kept][:batch]
            for at in range(0, len(ids), _PRUNE_CHUNK):
                chunk = ids[at : at + _PRUNE_CHUNK]
                conn.execute(t.score.delete().where(t.score.c.run_id.in_(chunk)))
                conn.execute(t.histogram.delete().where(t.histogram.c.run_id.in_(chunk)))
                conn.execute(r.delete().where(r.c.id.in_(chunk)))
            last = ids[-1] if ids else found[-1] if found else None
            return len(ids), last

        deleted, after = 0, -1
        while True:
            done, last = self._write(partial(one_batch, after=after))
            if last is None:
                return deleted
            deleted, after = deleted + done, last


def _without_secrets(config: Mapping[str, Any]) -> Any:
    """A monitor definition fit to store: no URL password, no Apprise URL beyond its scheme.

    Apprise URLs often carry their secret in the path or the query
    (``slack://TokenA/TokenB/TokenC``, ``json://host/hook?token=...``), so only
    the scheme is kept (``slack://***``); sending resolves the URL from the
    monitor file, never from the store.
    """
    masked = mask_passwords(dict(config))
    alerts = masked.get("alerts")
    if isinstance(alerts, list | tuple):
        masked["alerts"] = [
            {**a, "apprise": a["apprise"].split("://", 1)[0] + "://***"}
            if isinstance(a, dict) and isinstance(a.get("apprise"), str)
            else a
            for a in alerts
        ]
    return masked


def _baseline_values(monitor: str, r: BaselineRecord) -> dict[str, Any]:
    if r.monitor != monitor:
        raise ValueError(f"baseline record of {r.monitor!r} given for monitor {monitor!r}.")
    return {
        "monitor": monitor,
        "feature": r.feature,
        "segment": r.segment,
        "kind": r.kind,
        "binning_spec": dumps(dict(r.binning_spec)),
        "labels": dumps(list(r.labels)),
        "counts": dumps([int(c) for c in r.counts]),
        "missing": int(r.missing),
        "reference_start": to_db_time(r.reference_start),
        "reference_end": to_db_time(r.reference_end),
    }


def _same_baseline(stored: Sequence[Any], rows: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the stored version holds exactly ``rows`` (JSON compared as values)."""

    def key(row: Any) -> tuple[Any, ...]:
        get = row.__getitem__ if isinstance(row, Mapping) else row._mapping.__getitem__
        return (
            get("feature"), get("segment"), get("kind"), loads(get("binning_spec")),
            loads(get("labels")), loads(get("counts")), int(get("missing")),
            to_db_time(get("reference_start")), to_db_time(get("reference_end")),
        )  # fmt: skip

    mine = sorted((key(r) for r in rows), key=lambda k: (k[0], k[1]))
    theirs = sorted((key(s) for s in stored), key=lambda k: (k[0], k[1]))
    return mine == theirs
