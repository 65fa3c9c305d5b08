"""One monitor, one window: baseline, live histograms, scores, store.

This is the whole job of a scheduled monitor run, with no Airflow in it: the
Airflow tasks, the CLI (``drift run`` / ``drift backfill``) and the tests all
call these functions.

The baseline binning is fitted once, on the reference of the first window a
monitor measures, and kept in the results store; it is fitted again only
when the monitor's features, reference or binning options change. Keeping
the bins fixed keeps every window's histograms comparable on the dashboard.
Reference *counts* follow the reference mode: a fixed range or a separate
table is counted once with the baseline, a rolling (``previous_windows``) or
seasonal reference is counted again for every window over the same bins.

Re-running a window replaces that window's results in one transaction, so
retries and backfills never duplicate anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from drift.alerts import dispatch_alerts
from drift.config import FeatureConfig, MonitorConfig, SourceConfig, ThresholdsConfig
from drift.errors import DriftError, SourceError
from drift.results import feature_summary, score_records
from drift.sources import SqlSource, open_source
from drift.stats import FeatureScore, Histogram, Thresholds, score_features
from drift.stats.binning import OOV_LABEL, OTHER_LABEL, Binning, binning_from_spec
from drift.store import ResultsStore
from drift.store.records import BaselineRecord, HistogramRecord, RunRecord
from drift.windows import live_window, reference_window

__all__ = [
    "EngineFactory",
    "WindowResult",
    "backfill",
    "measure_window",
    "prepare_baseline",
    "run_window",
    "windows_between",
]

log = logging.getLogger(__name__)

EngineFactory = Callable[[SourceConfig], sa.Engine]

_SEVERITY_ORDER = {"ok": 0, "warn": 1, "critical": 2}


@dataclass(frozen=True, slots=True)
class WindowResult:
    """What one monitor window produced.

    Attributes
    ----------
    monitor : str
        The monitor's name.
    window_start, window_end : datetime
        The live window ``[start, end)``, UTC.
    status : {"ok", "insufficient_data", "error"}
        ``insufficient_data`` when the live or reference window holds fewer
        rows than ``thresholds.min_rows`` (scores are kept but raise nothing).
    scores : tuple of FeatureScore
        One per feature, in the monitor's order.
    run_id : int or None
        The run's row in the results store.
    error : str or None
        Why the run failed or had too little data.
    """

    monitor: str
    window_start: datetime
    window_end: datetime
    status: str
    scores: tuple[FeatureScore, ...]
    run_id: int | None = None
    error: str | None = None

    @property
    def drifted(self) -> tuple[str, ...]:
        """Features with significant drift of at least ``min_effect`` (none unless status is ok)."""
        if self.status != "ok":
            return ()
        return tuple(s.feature for s in self.scores if s.drifted)

    @property
    def max_severity(self) -> str:
        """The worst severity over the features (``ok`` unless status is ok)."""
        if self.status != "ok" or not self.scores:
            return "ok"
        return max((s.severity for s in self.scores), key=_SEVERITY_ORDER.__getitem__)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary, for XCom, Asset event extras and the CLI."""
        return {
            "monitor": self.monitor,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "status": self.status,
            "run_id": self.run_id,
            "error": self.error,
            "drifted": list(self.drifted),
            "max_severity": self.max_severity,
            "features": [feature_summary(s) for s in self.scores],
        }


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"`{name}` must be timezone-aware, got naive {value.isoformat()}.")
    return value.astimezone(UTC)


def _fit_key(monitor: MonitorConfig) -> str:
    """What a baseline depends on: feature options and the reference definition."""
    features = monitor.features or ()
    payload = {
        "features": [f.model_dump(mode="json") for f in features],
        "reference": monitor.reference.model_dump(mode="json", by_alias=True),
        "relation": [monitor.table, monitor.db_schema, monitor.query, monitor.timestamp],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _snapshot_reads(engine: sa.Engine) -> sa.Engine:
    """``engine``, reading in REPEATABLE READ transactions where that gives one snapshot.

    A window is read on one connection, in one transaction, but sometimes in
    more than one statement (the bin counts, then the unseen values of a
    categorical feature; wide monitors split their aggregates). Under READ
    COMMITTED each statement would see the rows committed by then, so a table
    growing during the read could report a window of 300 rows whose "new
    values" hold a million rows inserted meanwhile. PostgreSQL's and
    MariaDB/MySQL's REPEATABLE READ give the whole transaction the snapshot
    of its first statement; the source is only read, so it never has to
    retry a serialization failure.
    """
    if engine.dialect.name in ("postgresql", "mysql", "mariadb"):
        return engine.execution_options(isolation_level="REPEATABLE READ")
    return engine


class _Sources:
    """The live source and, when the reference is separate, its own source."""

    def __init__(self, monitor: MonitorConfig, engine_factory: EngineFactory | None) -> None:
        self.engine = open_source(monitor.source, engine_factory=engine_factory)
        self.reader = _snapshot_reads(self.engine)
        self.live = SqlSource(
            self.reader,
            table=monitor.table,
            schema=monitor.db_schema,
            query=monitor.query,
            timestamp=monitor.timestamp,
            pushdown=monitor.pushdown,
        )
        self.monitor = monitor

    def reference(self, start: datetime, end: datetime) -> tuple[SqlSource, Any, Any]:
        """The source and bounds of the reference for the live window [start, end)."""
        ref = reference_window(self.monitor, start, end)
        if not ref.separate:
            return self.live, ref.start, ref.end
        bounded = ref.start is not None or ref.end is not None
        source = SqlSource(
            self.reader,
            table=ref.table,
            schema=ref.schema,
            query=ref.query,
            timestamp=ref.timestamp if bounded else None,
            pushdown=self.monitor.pushdown,
        )
        return source, ref.start, ref.end

    def features(self) -> tuple[list[FeatureConfig], list[str]]:
        """The monitor's features with kinds filled in, and the problems of those missing."""
        configured = self.monitor.features
        if configured is None:
            return self.live.resolve_features(None), []
        present = self.live.columns()
        missing = [f for f in configured if f.name not in present]
        problems = [
            f"{f.name}: column not found in the source (it has {', '.join(sorted(present))})"
            for f in missing
        ]
        kept = [f for f in configured if f.name in present]
        return self.live.resolve_features(kept) if kept else [], problems

    def close(self) -> None:
        self.engine.dispose()


def _histograms(
    source: SqlSource,
    binnings: Mapping[str, Binning],
    start: datetime | None,
    end: datetime | None,
    problems: list[str],
) -> dict[str, Histogram]:
    """All features in one query; if that fails, each alone, so one bad column costs one feature.

    A lost connection (killed, server restarted, network gone) is no bad
    column: it is raised at once, so the run fails as a whole and its retry
    reads the window again in one statement, instead of reading the features
    one by one from other snapshots or recording them as not measured.
    """
    try:
        return source.histograms(binnings, start, end)
    except (SourceError, sa.exc.SQLAlchemyError) as exc:
        if len(binnings) == 1 or _connection_lost(exc):
            raise
    out: dict[str, Histogram] = {}
    for name, binning in binnings.items():
        try:
            out.update(source.histograms({name: binning}, start, end))
        except (SourceError, sa.exc.SQLAlchemyError) as exc:
            problems.append(f"{name}: {_first_line(exc)}")
    return out


def _connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` is the database connection going away, not a problem of the query."""
    return isinstance(exc, sa.exc.DBAPIError) and bool(exc.connection_invalidated)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _stored_baseline(
    store: ResultsStore, monitor: str, key: str, features: list[FeatureConfig]
) -> dict[str, BaselineRecord] | None:
    """The baseline in force, if it was fitted for this config and covers ``features``."""
    records = {r.feature: r for r in store.baseline_in_force(monitor)}
    if not records or any(r.binning_spec.get("fit_key") != key for r in records.values()):
        return None
    if any(f.name not in records for f in features):
        return None
    return records


def prepare_baseline(
    monitor: MonitorConfig,
    window_start: datetime,
    window_end: datetime,
    *,
    store: ResultsStore,
    engine_factory: EngineFactory | None = None,
) -> dict[str, Any]:
    """Make sure the monitor has a baseline binning in force, fitting it if needed.

    Parameters
    ----------
    monitor : MonitorConfig
        The monitor definition.
    window_start, window_end : datetime
        The live window about to be measured; its reference is what a new
        baseline is fitted on.
    store : ResultsStore
        Where the baseline is kept.
    engine_factory : callable, optional
        Builds the source engine (the Airflow layer resolves ``conn_id`` here).

    Returns
    -------
    dict
        JSON-ready: ``{"monitor", "fitted" (bool), "version", "features"}``.

    Raises
    ------
    drift.errors.SourceError
        If the reference has no rows to fit bins on, or the source cannot be read.
    """
    start, end = _utc(window_start, "window_start"), _utc(window_end, "window_end")
    store.save_monitor(monitor.name, monitor.model_dump(mode="json", by_alias=True))
    sources = _Sources(monitor, engine_factory)
    try:
        features, _problems = sources.features()
        if not features:
            raise SourceError(f"monitor {monitor.name!r}: no feature can be read: {_problems}")
        key = _fit_key(monitor)
        existing = _stored_baseline(store, monitor.name, key, features)
        if existing is not None:
            version = max(r.version for r in existing.values())
            return _baseline_summary(monitor, False, version, existing)
        source, ref_start, ref_end = sources.reference(start, end)
        if source.row_count(ref_start, ref_end) == 0:
            raise SourceError(
                f"monitor {monitor.name!r}: the reference {_describe(ref_start, ref_end)} has no "
                "rows to fit bins on; measure a later window or set reference: start/end"
            )
        binnings = source.fit(features, ref_start, ref_end)
        counts = source.histograms(binnings, ref_start, ref_end)
        kinds = {f.name: f.kind or binnings[f.name].kind for f in features}
        records = [
            BaselineRecord(
                monitor=monitor.name,
                feature=name,
                kind=kinds[name],
                binning_spec={**binning.to_spec(), "fit_key": key},
                labels=counts[name].labels,
                counts=tuple(int(c) for c in counts[name].counts),
                missing=counts[name].missing,
                reference_start=ref_start,
                reference_end=ref_end,
            )
            for name, binning in binnings.items()
        ]
        version = store.save_baseline(monitor.name, records)
        saved = {r.feature: r for r in records}
        log.info("monitor %s: fitted baseline version %s", monitor.name, version)
        return _baseline_summary(monitor, True, version, saved)
    finally:
        sources.close()


def _describe(start: datetime | None, end: datetime | None) -> str:
    if start is None and end is None:
        return "(all rows)"
    left = start.isoformat() if start else "-inf"
    right = end.isoformat() if end else "+inf"
    return f"[{left}, {right})"


def _baseline_summary(
    monitor: MonitorConfig, fitted: bool, version: int, records: Mapping[str, BaselineRecord]
) -> dict[str, Any]:
    return {
        "monitor": monitor.name,
        "fitted": fitted,
        "version": version,
        "features": {
            name: {"kind": r.kind, "bins": len(r.labels), "n_reference": int(sum(r.counts))}
            for name, r in records.items()
        },
    }


def _thresholds(t: ThresholdsConfig) -> Thresholds:
    metric = "kl_corrected" if t.metric == "kl" and t.bias_corrected else t.metric
    return Thresholds(
        warn=t.warn,
        critical=t.critical,
        p_value=t.p_value,
        min_effect=t.min_effect,
        min_rows=t.min_rows,
        metric=metric,
    )


def measure_window(
    monitor: MonitorConfig,
    window_start: datetime,
    window_end: datetime,
    *,
    store: ResultsStore,
    engine_factory: EngineFactory | None = None,
    airflow_run_id: str | None = None,
) -> WindowResult:
    """Bin the live window, score it against the baseline and store the run.

    The baseline must be in force (see :func:`prepare_baseline`); this
    function fits one itself when it is missing. A failure is recorded as a
    run with status ``error`` and the error text, then raised again, so a
    scheduler retries it and the retry replaces the failed run.

    Parameters
    ----------
    monitor : MonitorConfig
        The monitor definition.
    window_start, window_end : datetime
        The live window ``[start, end)``, timezone-aware.
    store : ResultsStore
        The results store; the window's rows are replaced in one transaction.
    engine_factory : callable, optional
        Builds the source engine (the Airflow layer resolves ``conn_id`` here).
    airflow_run_id : str, optional
        Kept with the run, to find it from Airflow's UI.

    Returns
    -------
    WindowResult
    """
    start, end = _utc(window_start, "window_start"), _utc(window_end, "window_end")
    if start >= end:
        raise ValueError(f"`window_start` ({start}) must be before `window_end` ({end}).")
    attempt = _Attempt(monitor, start, end, airflow_run_id)
    problems: list[str] = []
    try:
        prepare_baseline(monitor, start, end, store=store, engine_factory=engine_factory)
        result_scores = _score_window(monitor, start, end, store, engine_factory, problems)
    except (DriftError, sa.exc.SQLAlchemyError, ValueError) as exc:
        store.write_run(attempt.record("error", f"{type(exc).__name__}: {exc}", ()))
        raise
    status, error = judge_window(monitor, start, end, result_scores, problems)
    run_id = store.write_run(attempt.record(status, error, result_scores))
    if problems:
        log.error("monitor %s [%s, %s): %s", monitor.name, start, end, error)
    return WindowResult(monitor.name, start, end, status, tuple(result_scores), run_id, error)


def judge_window(
    monitor: MonitorConfig,
    start: datetime,
    end: datetime,
    scores: Sequence[FeatureScore],
    problems: Sequence[str],
) -> tuple[str, str | None]:
    """A window's status and its notes, from its scores and the features not measured.

    ``error`` if a feature could not be measured; ``insufficient_data`` if no
    feature had enough rows to be judged; else ``ok``. The notes name the
    features not measured, those with too few rows, and those whose
    reference mostly fell outside the kept bins (also logged as a warning).
    """
    status, notes = "ok", []
    short = [
        f"{s.feature} ({what} {n} < {monitor.thresholds.min_rows})"
        for s in scores
        for what, n in (("live rows", s.current.n), ("reference rows", s.reference.n))
        if n < monitor.thresholds.min_rows
    ]
    if short:
        notes.append("too few rows, not judged: " + ", ".join(short))
        if not any(s.enough_data for s in scores):
            status = "insufficient_data"
    crowded = _crowded_tails(scores)
    if crowded:
        notes.append("most values outside the kept bins: " + "; ".join(crowded))
        log.warning(
            "monitor %s [%s, %s): most values outside the kept bins: %s",
            monitor.name, start, end, "; ".join(crowded),
        )  # fmt: skip
    if problems:
        status = "error"
        notes.insert(0, "features not measured: " + "; ".join(problems))
    return status, " | ".join(notes) or None


#: Share of the reference in the "<other>" / "<oov>" bin above which a run warns.
_CROWDED_TAIL = 0.5


def _crowded_tails(scores: Sequence[FeatureScore]) -> list[str]:
    """Features whose reference mostly falls outside the kept categories or vocabulary.

    A column with a million distinct values keeps its ``top_k`` most frequent
    (chosen in the database, so memory stays bounded) and lumps the rest into
    one bin; when that bin holds most of the reference, the divergence is
    blind to what happens among the other values, and the user should know.
    """
    out = []
    for s in scores:
        labels, n = s.reference.labels, s.reference.n
        if not labels or labels[-1] not in (OTHER_LABEL, OOV_LABEL) or n == 0:
            continue
        share = float(s.reference.counts[-1]) / n
        if share > _CROWDED_TAIL:
            what = "categories" if labels[-1] == OTHER_LABEL else "tokens of the vocabulary"
            out.append(
                f"{s.feature}: {share:.1%} of the reference is outside the top "
                f"{len(labels) - 1} {what} (very high cardinality: raise top_k or bucket "
                "the column)"
            )
    return out


def _score_window(
    monitor: MonitorConfig,
    start: datetime,
    end: datetime,
    store: ResultsStore,
    engine_factory: EngineFactory | None,
    problems: list[str],
) -> list[FeatureScore]:
    """Score every feature that can be read; what cannot is added to ``problems``."""
    baseline = {r.feature: r for r in store.baseline_in_force(monitor.name)}
    sources = _Sources(monitor, engine_factory)
    try:
        features, missing = sources.features()
        problems.extend(missing)
        binnings = baseline_binnings(features, baseline)
        live = _histograms(sources.live, binnings, start, end, problems)
        if monitor.reference.mode in ("previous_windows", "season"):
            source, ref_start, ref_end = sources.reference(start, end)
            reference = _histograms(source, binnings, ref_start, ref_end, problems)
        else:
            reference = stored_references(baseline)
    finally:
        sources.close()
    return score_histograms(monitor, features, baseline, binnings, live, reference)


def baseline_binnings(
    features: Sequence[FeatureConfig], baseline: Mapping[str, BaselineRecord]
) -> dict[str, Binning]:
    """The frozen binning of each feature that has a baseline, in feature order."""
    return {
        f.name: binning_from_spec(baseline[f.name].binning_spec)
        for f in features
        if f.name in baseline
    }


def stored_references(baseline: Mapping[str, BaselineRecord]) -> dict[str, Histogram]:
    """The reference histograms frozen with the baseline (fixed or separate references)."""
    return {
        n: Histogram(r.labels, np.asarray(r.counts, dtype=np.int64), r.missing)
        for n, r in baseline.items()
    }


def score_histograms(
    monitor: MonitorConfig,
    features: Sequence[FeatureConfig],
    baseline: Mapping[str, BaselineRecord],
    binnings: Mapping[str, Binning],
    live: Mapping[str, Histogram],
    reference: Mapping[str, Histogram],
) -> list[FeatureScore]:
    """Score every feature of ``binnings`` that has live and reference histograms.

    One call of :func:`drift.stats.score_features`, so the p-values are
    adjusted together, with the monitor's smoothing and thresholds and each
    feature's own thresholds where it has them.
    """
    measured = [n for n in binnings if n in live and n in reference]
    scores = score_features(
        [(name, baseline[name].kind, reference[name], live[name]) for name in measured],
        smoothing=monitor.smoothing.method,
        eps=monitor.smoothing.epsilon,
        alpha=monitor.smoothing.alpha,
        thresholds=_thresholds(monitor.thresholds),
        overrides={f.name: _thresholds(f.thresholds) for f in features if f.thresholds is not None},
    )
    return list(scores)


class _Attempt:
    """One measurement of one window, timed from its start to its record."""

    def __init__(
        self, monitor: MonitorConfig, start: datetime, end: datetime, airflow_run_id: str | None
    ) -> None:
        self.monitor, self.start, self.end = monitor, start, end
        self.airflow_run_id = airflow_run_id
        self.started = datetime.now(UTC)
        self.clock = time.perf_counter()

    def record(self, status: str, error: str | None, scores: Sequence[FeatureScore]) -> RunRecord:
        """The store record of this attempt, with every score and histogram."""
        return RunRecord(
            monitor=self.monitor.name,
            window_start=self.start,
            window_end=self.end,
            status=status,
            error=error,
            started_at=self.started,
            finished_at=datetime.now(UTC),
            duration_seconds=time.perf_counter() - self.clock,
            airflow_run_id=self.airflow_run_id,
            scores=score_records(self.monitor, scores),
            histograms=tuple(
                HistogramRecord(
                    feature=s.feature,
                    labels=s.current.labels,
                    counts=tuple(int(c) for c in s.current.counts),
                    missing=s.current.missing,
                    reference_counts=tuple(int(c) for c in s.reference.counts),
                    contributions=tuple(float(c) for c in s.contributions),
                )
                for s in scores
            ),
        )


def run_window(
    monitor: MonitorConfig,
    window_start: datetime,
    window_end: datetime,
    *,
    store: ResultsStore,
    engine_factory: EngineFactory | None = None,
    airflow_run_id: str | None = None,
    notify: bool = True,
) -> WindowResult:
    """Baseline, measure and alert one window: what one scheduled run does.

    With ``notify=False`` incidents are recorded but nobody is notified.
    """
    prepare_baseline(monitor, window_start, window_end, store=store, engine_factory=engine_factory)
    result = measure_window(
        monitor,
        window_start,
        window_end,
        store=store,
        engine_factory=engine_factory,
        airflow_run_id=airflow_run_id,
    )
    dispatch_alerts(monitor, result.summary(), store=store, notify=notify)
    return result


def windows_between(
    monitor: MonitorConfig, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The monitor's windows that close in ``(start, end]``, oldest first.

    With a fixed ``window`` length, windows are aligned to whole multiples of
    it counted from the Unix epoch (``1d`` windows are UTC days), as Airflow's
    timetable for the monitor DAG aligns them; with a cron ``schedule`` each
    window ends at a tick.
    """
    start, end = _utc(start, "start"), _utc(end, "end")
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
    from croniter import croniter  # type: ignore[import-untyped]

    ticks = croniter(monitor.schedule, start)
    while (tick := ticks.get_next(datetime).astimezone(UTC)) <= end:
        yield live_window(monitor, tick)


def backfill(
    monitor: MonitorConfig,
    start: datetime,
    end: datetime,
    *,
    store: ResultsStore,
    engine_factory: EngineFactory | None = None,
    on_window: Callable[[WindowResult], None] | None = None,
    notify: bool = False,
) -> list[WindowResult]:
    """Measure every window closing in ``(start, end]``; safe to run again.

    The windows' histograms come from one pass over the range (one
    ``GROUP BY`` window query per chunk of windows, see
    :mod:`drift.backfill`), and each window is scored, stored and its
    alerts recorded as :func:`run_window` would, oldest first, calling
    ``on_window`` with each result. A window that fails is recorded with
    status ``error`` and the backfill goes on to the next one; windows
    already stored are replaced, never doubled. Incidents are recorded
    window by window, but nobody is notified unless ``notify`` is true: a
    backfill of history should not page anyone.
    """
    from drift.backfill import backfill_windows  # drift.backfill builds on this module

    return backfill_windows(
        monitor,
        start,
        end,
        store=store,
        engine_factory=engine_factory,
        on_window=on_window,
        notify=notify,
    )
