"""One monitor, one window: baseline, live histograms, scores, store, alerts.

This is the whole job of a scheduled monitor run, with no Airflow in it: the
Airflow tasks, the CLI (``drift run``) and the tests all call these
functions. Re-running a window replaces that window's results in one
transaction, so retries never duplicate anything; a failure, the baseline's
included, is stored as a run with status ``error`` and raised again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa

from drift.alerts import dispatch_alerts
from drift.config import MonitorConfig
from drift.config.windows import utc
from drift.errors import DriftError, SourceError
from drift.run.accepted import overlay_accepted
from drift.run.baseline import Baseline, baseline_binnings, prepare_baseline, stored_reference
from drift.run.reading import (
    EngineFactory,
    Sources,
    connection_lost,
    first_line,
    one_read,
    read_histograms,
)
from drift.run.records import Attempt
from drift.run.references import WindowedReference, from_windows, read_windows, rolling_bounds
from drift.run.result import WindowResult
from drift.run.scoring import judge_window, score_histograms
from drift.run.slicing import segment_members
from drift.stats import FeatureScore
from drift.stats.binning import Binning
from drift.store import ResultsStore

__all__ = ["RUN_ERRORS", "measure_window", "record_failed_window", "run_window"]

log = logging.getLogger(__name__)

#: What a failed measurement raises; each is stored as an error run first.
RUN_ERRORS = (DriftError, sa.exc.SQLAlchemyError, ValueError)


def _checked(window_start: datetime, window_end: datetime) -> tuple[datetime, datetime]:
    start, end = utc(window_start, "window_start"), utc(window_end, "window_end")
    if start >= end:
        raise ValueError(f"`window_start` ({start}) must be before `window_end` ({end}).")
    return start, end


def record_failed_window(
    store: ResultsStore,
    monitor: MonitorConfig,
    window_start: datetime,
    window_end: datetime,
    exc: BaseException,
    *,
    airflow_run_id: str | None = None,
) -> int | None:
    """Store the window as a run with status ``error`` and the error's text.

    For failures outside :func:`measure_window` (the Airflow ``baseline``
    task); a later successful run of the window replaces it. Returns the run
    id, or ``None`` when the window itself is invalid or the store is down
    (the original error is what the caller raises).
    """
    try:
        start, end = _checked(window_start, window_end)
        attempt = Attempt(monitor, start, end, airflow_run_id)
        return store.write_run(attempt.record("error", f"{type(exc).__name__}: {exc}", ()))
    except RUN_ERRORS:
        log.exception("monitor %s: could not record the failed window", monitor.name)
        return None


def measure_window(
    monitor: MonitorConfig,
    window_start: datetime,
    window_end: datetime,
    *,
    store: ResultsStore,
    engine_factory: EngineFactory | None = None,
    airflow_run_id: str | None = None,
    baseline: Baseline | None = None,
) -> WindowResult:
    """Bin the live window, score it against the baseline and store the run.

    A failure (the baseline's too) is recorded as a run with status
    ``error`` and the error text, then raised again, so a scheduler retries
    it and the retry replaces the failed run.

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
    baseline : Baseline, optional
        The baseline :func:`drift.run.prepare_baseline` returned for this
        window; prepared here (fitted if missing) when not given.

    Returns
    -------
    WindowResult

    Raises
    ------
    ValueError
        If the window ends in the future (nothing is stored), or is empty.
    """
    start, end = _checked(window_start, window_end)
    now = datetime.now(UTC)
    if end > now:  # refused before anything is stored: a future window has no rows yet
        when = now.isoformat(timespec="seconds")
        raise ValueError(
            f"window end {end.isoformat()} is in the future (now {when}): "
            "a window can be measured once it has ended"
        )
    attempt = Attempt(monitor, start, end, airflow_run_id)
    problems: list[str] = []
    try:
        with one_read():  # the baseline's reflection and column samples serve the window too
            if baseline is None:
                baseline = prepare_baseline(
                    monitor, start, end, store=store, engine_factory=engine_factory
                )
            scores = _score_window(monitor, start, end, baseline, engine_factory, problems)
    except RUN_ERRORS as exc:
        store.write_run(attempt.record("error", f"{type(exc).__name__}: {exc}", ()))
        raise
    status, error = judge_window(monitor, start, end, scores, problems, baseline.features.skipped)
    run_id = store.write_run(attempt.record(status, error, scores))
    if problems:
        log.error("monitor %s [%s, %s): %s", monitor.name, start, end, error)
    return WindowResult(monitor.name, start, end, status, tuple(scores), run_id, error)


def _score_window(
    monitor: MonitorConfig,
    start: datetime,
    end: datetime,
    baseline: Baseline,
    engine_factory: EngineFactory | None,
    problems: list[str],
) -> list[FeatureScore]:
    """Score every feature that can be read; what cannot is added to ``problems``."""
    features = baseline.features
    problems.extend(features.problems)
    binnings = baseline_binnings(features.features, baseline.records)
    with Sources(monitor, engine_factory) as sources:
        sources.use_segments(segment_members(baseline.records.values()))
        live = read_histograms(sources.live, binnings, start, end, problems)
        frozen = stored_reference(baseline.records)
        if monitor.reference.mode in ("previous_windows", "season"):
            moving = _moving_reference(monitor, sources, binnings, start, end, problems)
            reference = overlay_accepted(moving, baseline.records, frozen)
        else:
            reference = frozen
    return score_histograms(
        monitor, baseline.records, binnings, live, reference.histograms,
        reference.dispersions, reference.missing,
    )  # fmt: skip


def _moving_reference(
    monitor: MonitorConfig,
    sources: Sources,
    binnings: dict[str, Binning],
    start: datetime,
    end: datetime,
    problems: list[str],
) -> WindowedReference:
    """A rolling reference window by window (with dispersions), else in one read."""
    bounds = rolling_bounds(monitor, start, end)
    if bounds is not None:
        try:
            return from_windows(binnings, read_windows(sources.live, binnings, bounds))
        except (SourceError, sa.exc.SQLAlchemyError) as exc:
            if connection_lost(exc):
                raise
            log.warning(
                "monitor %s: the reference windows could not be read apart (%s); "
                "reading the reference at once, independent rows assumed",
                monitor.name, first_line(exc),
            )  # fmt: skip
    source, ref_start, ref_end = sources.reference(start, end)
    histograms = read_histograms(source, binnings, ref_start, ref_end, problems)
    return WindowedReference(histograms, {}, {})


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

    The baseline is prepared once; a failure anywhere is stored as an error
    run and raised. With ``notify=False`` incidents are recorded but nobody
    is notified.
    """
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
