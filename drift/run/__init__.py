"""Running monitors: one window (:func:`run_window`), or every window of a range (:func:`backfill`).

No Airflow in here: the Airflow tasks, the CLI and the tests call these.
Modules, in the order a window goes through them: :mod:`~drift.run.reading`
(sources, one snapshot per window), :mod:`~drift.run.baseline` (the bins in
force), :mod:`~drift.run.scoring` (scores and the window's status),
:mod:`~drift.run.records` (store rows and typed summaries),
:mod:`~drift.run.result` (:class:`WindowResult`), :mod:`~drift.run.window`
(measure and run one window) and :mod:`~drift.run.backfilling`.
"""

from drift.alerts.types import FeatureSummary, WindowSummary
from drift.run.backfilling import backfill
from drift.run.baseline import Baseline, prepare_baseline
from drift.run.reading import EngineFactory
from drift.run.result import WindowResult
from drift.run.window import measure_window, record_failed_window, run_window

__all__ = [
    "Baseline",
    "EngineFactory",
    "FeatureSummary",
    "WindowResult",
    "WindowSummary",
    "backfill",
    "measure_window",
    "prepare_baseline",
    "record_failed_window",
    "run_window",
]
