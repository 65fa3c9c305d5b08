"""Backfill: every window of a range from one pass over the data.

Instead of one query per window, the live histograms of all the windows come from
:meth:`drift.sources.SqlSource.window_histograms` (one ``GROUP BY`` window
query per chunk of windows); each window is then scored, stored and its
alerts recorded exactly as :func:`drift.run.run_window` does, oldest
first, so the stored results equal those of running each window alone.

References:

- fixed range or separate table: the counts frozen with the baseline, as
  for a single window;
- ``previous_windows: N`` with a fixed window length: the sum of the N
  preceding windows' histograms (the range read starts N windows earlier),
  which is exactly the reference range ``[start - N * length, start)``;
- ``season: S`` with ``S`` a whole number of windows: the histogram of the
  window ``S`` earlier, read in the same pass;
- otherwise (cron schedules, whose windows differ in length, or a season
  that is not a whole number of windows): one reference query per window.

Monitors with ``pushdown: false`` are measured window by window, and if the
grouped query fails (a column that changed type, say) the windows not yet
measured are run one by one, so each failure is recorded per feature and
per window as a single run would record it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta

from drift.alerts import dispatch_alerts
from drift.config import FeatureConfig, MonitorConfig
from drift.config.windows import utc, windows_between
from drift.errors import DriftError
from drift.run.accepted import overlay_accepted
from drift.run.baseline import baseline_binnings, prepare_baseline, stored_reference
from drift.run.reading import EngineFactory, Sources, read_histograms
from drift.run.records import Attempt
from drift.run.references import WindowedReference, from_windows
from drift.run.result import WindowResult
from drift.run.scoring import judge_window, score_histograms
from drift.run.slicing import segment_members
from drift.run.window import RUN_ERRORS, record_failed_window, run_window
from drift.stats import FeatureScore, Histogram
from drift.stats.binning import Binning
from drift.store import ResultsStore
from drift.store.records import BaselineRecord

__all__ = ["backfill"]

log = logging.getLogger(__name__)

Window = tuple[datetime, datetime]
OnWindow = Callable[[WindowResult], None] | None


def backfill(
    monitor: MonitorConfig,
    start: datetime,
    end: datetime,
    *,
    store: ResultsStore,
    engine_factory: EngineFactory | None = None,
    on_window: OnWindow = None,
    notify: bool = False,
) -> list[WindowResult]:
    """Measure every window closing in ``(start, end]``; safe to run again.

    The windows' histograms come from one pass over the range (see the
    module docstring), and each window is scored, stored and its alerts
    recorded as :func:`drift.run.run_window` would, oldest first, calling
    ``on_window`` with each result. A window that fails is recorded with
    status ``error`` and the backfill goes on to the next one; windows
    already stored are replaced, never doubled. Incidents are recorded
    window by window, but nobody is notified unless ``notify`` is true: a
    backfill of history should not page anyone.
    """
    start, end = utc(start, "start"), utc(end, "end")
    if start >= end:
        raise ValueError(
            f"the backfill range is empty: start {start.isoformat()} is not before "
            f"end {end.isoformat()}"
        )
    windows = list(windows_between(monitor, start, end))
    run = _Runner(monitor, store, engine_factory, on_window, notify)
    if not monitor.pushdown:
        return run.one_by_one(windows)
    while windows and not run.baseline_ready(windows[0]):
        windows.pop(0)
    if not windows:
        return run.results
    done = 0
    try:
        for window, live, reference in _histograms_by_window(monitor, windows, run):
            run.store_window(window, live, reference)
            done += 1
    except RUN_ERRORS as exc:
        log.warning(
            "monitor %s: one-pass backfill stopped (%s); measuring the %d remaining window(s) "
            "one by one",
            monitor.name,
            exc,
            len(windows) - done,
        )
        run.one_by_one(windows[done:])
    return run.results


class _Runner:
    """Scores, stores and reports windows in order; collects their results."""

    def __init__(
        self,
        monitor: MonitorConfig,
        store: ResultsStore,
        engine_factory: EngineFactory | None,
        on_window: OnWindow,
        notify: bool,
    ) -> None:
        self.monitor, self.store = monitor, store
        self.engine_factory, self.on_window, self.notify = engine_factory, on_window, notify
        self.results: list[WindowResult] = []
        self.problems: list[str] = []
        self.skipped: tuple[tuple[str, str], ...] = ()
        self.baseline: Mapping[str, BaselineRecord] = {}
        self.features: tuple[FeatureConfig, ...] = ()
        self.binnings: dict[str, Binning] = {}

    def emit(self, result: WindowResult) -> None:
        self.results.append(result)
        if self.on_window is not None:
            self.on_window(result)

    def failed(self, window: Window, exc: BaseException, *, record: bool = False) -> None:
        """Report a window that failed; ``record`` stores it as an error run first.

        Failures inside :func:`run_window` and a failed store write are
        already recorded (or cannot be); a baseline that cannot be prepared
        is recorded here, as a single run records it.
        """
        lo, hi = window
        log.warning("monitor %s window [%s, %s): %s", self.monitor.name, lo, hi, exc)
        if record:
            record_failed_window(self.store, self.monitor, lo, hi, exc)
        self.emit(WindowResult(self.monitor.name, lo, hi, "error", (), None, str(exc)))

    def one_by_one(self, windows: list[Window]) -> list[WindowResult]:
        """The per-window loop: :func:`run_window` for each window."""
        for lo, hi in windows:
            try:
                result = run_window(
                    self.monitor,
                    lo,
                    hi,
                    store=self.store,
                    engine_factory=self.engine_factory,
                    notify=self.notify,
                )
            except RUN_ERRORS as exc:
                self.failed((lo, hi), exc)
                continue
            self.emit(result)
        return self.results

    def baseline_ready(self, window: Window) -> bool:
        """Fit or find the baseline as ``run_window`` would; False records the failure."""
        try:
            prepared = prepare_baseline(
                self.monitor, *window, store=self.store, engine_factory=self.engine_factory
            )
        except RUN_ERRORS as exc:
            self.failed(window, exc, record=True)
            return False
        self.baseline = prepared.records
        self.features = prepared.features.features
        self.problems = list(prepared.features.problems)
        self.skipped = prepared.features.skipped
        return True

    def store_window(
        self, window: Window, live: Mapping[str, Histogram], reference: WindowedReference
    ) -> None:
        """Score one window's histograms and record it as ``measure_window`` + alerts would."""
        monitor, (lo, hi) = self.monitor, window
        attempt = Attempt(monitor, lo, hi, None)
        problems = list(self.problems)
        try:
            scores = self.score(live, reference)
            status, error = judge_window(monitor, lo, hi, scores, problems, self.skipped)
            run_id = self.store.write_run(attempt.record(status, error, scores))
            if problems:
                log.error("monitor %s [%s, %s): %s", monitor.name, lo, hi, error)
            result = WindowResult(monitor.name, lo, hi, status, tuple(scores), run_id, error)
            dispatch_alerts(monitor, result.summary(), store=self.store, notify=self.notify)
        except RUN_ERRORS as exc:
            self.failed(window, exc)
            return
        self.emit(result)

    def score(
        self, live: Mapping[str, Histogram], reference: WindowedReference
    ) -> list[FeatureScore]:
        return score_histograms(
            self.monitor, self.baseline, self.binnings, live,
            reference.histograms, reference.dispersions, reference.missing,
        )  # fmt: skip


def _lag(monitor: MonitorConfig, length: timedelta | None) -> tuple[str, int]:
    """Where references come from (``stored``, ``rolling``, ``season``, ``query``), windows back."""
    ref = monitor.reference
    if ref.mode not in ("previous_windows", "season"):
        return "stored", 0
    if length is None:
        return "query", 0
    if ref.mode == "previous_windows":
        assert ref.previous_windows is not None
        return "rolling", ref.previous_windows
    assert ref.season is not None
    if ref.season % length:
        return "query", 0
    return "season", ref.season // length


def _histograms_by_window(
    monitor: MonitorConfig, windows: list[Window], run: _Runner
) -> Iterator[tuple[Window, dict[str, Histogram], WindowedReference]]:
    """Each window with its live and reference histograms, oldest first."""
    sources = Sources(monitor, run.engine_factory)
    try:
        binnings = run.binnings = baseline_binnings(run.features, run.baseline)
        sources.use_segments(segment_members(run.baseline.values()))
        stored = stored_reference(run.baseline)
        length = monitor.window_length
        how, lag = _lag(monitor, length)
        bounds = [lo for lo, _ in windows] + [windows[-1][1]]
        if lag:
            assert length is not None
            bounds = [bounds[0] - k * length for k in range(lag, 0, -1)] + bounds
        recent: deque[dict[str, Histogram]] = deque(maxlen=lag or None)
        for position, live in enumerate(sources.live.window_histograms(binnings, bounds)):
            if position < lag:
                recent.append(live)
                continue
            window = windows[position - lag]
            reference: WindowedReference
            if how == "stored":
                reference = stored
            elif how == "rolling" and lag >= 2:
                reference = from_windows(binnings, list(recent))
            elif how in ("rolling", "season"):
                reference = WindowedReference(dict(recent[0]), {}, {})
            else:
                problems: list[str] = []
                source, ref_start, ref_end = sources.reference(*window)
                histograms = read_histograms(source, binnings, ref_start, ref_end, problems)
                if problems:
                    raise DriftError("; ".join(problems))
                reference = WindowedReference(histograms, {}, {})
            if how != "stored":
                reference = overlay_accepted(reference, run.baseline, stored)
            if lag:
                recent.append(live)
            yield window, live, reference
    finally:
        sources.close()
