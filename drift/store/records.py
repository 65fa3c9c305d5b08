"""Values written to and read from the results store (frozen, slotted)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "RUN_STATUSES",
    "AlertRow",
    "BaselineRecord",
    "HistogramRecord",
    "HistogramRow",
    "MonitorStatus",
    "RunRecord",
    "RunRow",
    "ScorePoint",
    "ScoreRecord",
]


#: What a run can end as.
RUN_STATUSES = ("ok", "insufficient_data", "error")


@dataclass(frozen=True, slots=True)
class BaselineRecord:
    """One feature's binning and reference counts, as fitted for a monitor.

    Attributes
    ----------
    monitor, feature : str
        Whose baseline this is.
    kind : str
        ``numeric``, ``categorical`` or ``tokens``.
    binning_spec : mapping
        The binning, JSON-ready (cuts, categories or vocabulary).
    labels : tuple of str
        One label per bin; ``counts`` has one count per label.
    counts : tuple of int
        The reference's count in each bin; ``missing`` counts missing values.
    missing : int
        Missing values of the reference.
    reference_start, reference_end : datetime or None
        The reference window the bins were fitted on.
    version : int
        Set by the store on reads; ignored on writes.
    segment : str
        The rows the reference counts are of: ``""`` the whole population,
        else a segment's name (``"country=BR"``), over the whole population's
        bins. A pair is a feature named ``"x × y"`` of kind ``pair``.
    """

    monitor: str
    feature: str
    kind: str
    binning_spec: Mapping[str, Any]
    labels: tuple[str, ...]
    counts: tuple[int, ...]
    missing: int
    reference_start: datetime | None
    reference_end: datetime | None
    version: int = 0
    segment: str = ""


@dataclass(frozen=True, slots=True)
class ScoreRecord:
    """One metric of one feature in one window, with what was in force.

    Attributes
    ----------
    feature, metric : str
        What was measured (``kl``, ``js``, ``psi``, ...).
    value, value_corrected : float or None
        The metric and its small-sample bias-corrected value (NaN and
        infinities are stored as NULL).
    p_value, p_adjusted : float or None
        The G-test p-value and its Benjamini-Hochberg adjustment.
    n_current, n_reference : int
        Sample sizes of the live window and of the reference.
    missing_rate : float
        Share of missing values in the live window.
    severity : str
        ``ok``, ``warn`` or ``critical`` (or ``insufficient_data``).
    warn_threshold, critical_threshold : float or None
        The thresholds in force.
    smoothing : str
        The smoother in force (``lidstone``, ``epsilon``, ``none``).
    alpha : float
        Its parameter.
    segment : str
        The rows scored: ``""`` the whole population, else a segment's name.
    """

    feature: str
    metric: str
    value: float | None
    value_corrected: float | None
    p_value: float | None
    p_adjusted: float | None
    n_current: int
    n_reference: int
    missing_rate: float
    severity: str
    warn_threshold: float | None
    critical_threshold: float | None
    smoothing: str
    alpha: float
    segment: str = ""


@dataclass(frozen=True, slots=True)
class HistogramRecord:
    """One feature's live counts in one window, beside the reference's.

    Attributes
    ----------
    feature : str
        The feature.
    labels : tuple of str
        One label per bin.
    counts, reference_counts : tuple of int
        Live and reference count of each bin.
    missing : int
        Missing values in the live window.
    contributions : tuple of float
        Each bin's share of the divergence, so a reader sees which bins
        drive the drift (a pair's cells row-major, ``x`` outer).
    segment : str
        The rows counted: ``""`` the whole population, else a segment's name.
    """

    feature: str
    labels: tuple[str, ...]
    counts: tuple[int, ...]
    missing: int
    reference_counts: tuple[int, ...]
    contributions: tuple[float, ...]
    segment: str = ""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """Everything one monitor window produced; written as one transaction.

    Attributes
    ----------
    monitor : str
        The monitor's name.
    window_start, window_end : datetime
        The window ``[start, end)``; with ``monitor``, the run's key. Aware
        datetimes in any zone (stored as UTC); naive ones are taken as UTC.
    status : str
        ``ok``, ``insufficient_data`` or ``error``.
    error : str or None
        What went wrong, for ``error`` (or a partial failure).
    started_at, finished_at : datetime or None
        When the measurement ran; ``duration_seconds`` is its length.
    duration_seconds : float or None
        Wall time of the measurement.
    airflow_run_id : str or None
        The Airflow DAG run that wrote it.
    scores, histograms : sequence
        Every score and histogram of the window.
    """

    monitor: str
    window_start: datetime
    window_end: datetime
    status: str
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    airflow_run_id: str | None
    scores: Sequence[ScoreRecord] = ()
    histograms: Sequence[HistogramRecord] = ()


@dataclass(frozen=True, slots=True)
class RunRow:
    """A stored run (times are timezone-aware UTC)."""

    id: int
    monitor: str
    window_start: datetime
    window_end: datetime
    status: str
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    airflow_run_id: str | None


@dataclass(frozen=True, slots=True)
class MonitorStatus:
    """A monitor with its latest window and the open alerts it has."""

    name: str
    config_hash: str
    last_run_id: int | None
    last_window_start: datetime | None
    last_window_end: datetime | None
    last_status: str | None
    open_alerts: int


@dataclass(frozen=True, slots=True)
class ScorePoint:
    """One metric value of one feature (in one segment, ``""``: all rows) in one window."""

    run_id: int
    feature: str
    metric: str
    window_start: datetime
    window_end: datetime
    value: float | None
    value_corrected: float | None
    p_value: float | None
    p_adjusted: float | None
    severity: str
    n_current: int
    n_reference: int
    missing_rate: float
    warn_threshold: float | None
    critical_threshold: float | None
    smoothing: str
    alpha: float
    segment: str = ""


@dataclass(frozen=True, slots=True)
class HistogramRow:
    """One feature's stored histogram of one run (in one segment, ``""``: all rows)."""

    run_id: int
    feature: str
    labels: tuple[str, ...]
    counts: tuple[int, ...]
    reference_counts: tuple[int, ...]
    contributions: tuple[float, ...]
    missing: int
    segment: str = ""


@dataclass(frozen=True, slots=True)
class AlertRow:
    """An alert (incident) of one monitor, feature and segment (``""``: all rows)."""

    id: int
    monitor: str
    feature: str
    severity: str
    state: str
    opened_run_id: int | None
    last_run_id: int | None
    resolved_run_id: int | None
    notification_key: str | None
    notified_at: datetime | None
    message: str | None
    created_at: datetime
    updated_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_note: str | None = None
    resolved_reason: str | None = None
    segment: str = ""
