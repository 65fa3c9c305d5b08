"""The dashboard's JSON API, as pydantic models (they make its OpenAPI schema).

A ``segment`` names the rows a result is about: ``""`` the whole population,
else a segment such as ``"country=BR"`` (issue 19).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ActionOut",
    "AlertOut",
    "FeatureRun",
    "Freshness",
    "Grid",
    "MonitorDetail",
    "MonitorSummary",
    "NotificationOut",
    "OpenAlert",
    "PairCells",
    "RunDetail",
    "RunSummary",
    "SegmentTableOut",
    "Series",
    "SparkPoint",
    "Strip",
    "TimeRange",
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class SparkPoint(_Out):
    """The worst KL over a monitor's features in one window."""

    window_start: datetime
    window_end: datetime
    value: float | None


class Freshness(_Out):
    """Whether a monitor has run the latest window its schedule has closed."""

    state: str = Field(description="on_time, late, never_ran or unknown (config unreadable)")
    expected_window_end: datetime | None = Field(
        None, description="End of the latest window the schedule has closed by now"
    )
    late_by_seconds: float | None = None


class OpenAlert(_Out):
    """An open alert on the overview, with how long it has been open."""

    id: int
    feature: str
    severity: str
    opened_run_id: int | None
    opened_window_start: datetime | None = Field(None, description="Start of the opening window")
    segment: str = Field("", description='The segment: "" for the whole population')
    created_at: datetime
    age_seconds: float


class Strip(_Out):
    """Each feature's worst severity in the monitor's most recent windows (oldest first)."""

    names: list[str]
    starts: list[datetime]
    ends: list[datetime]
    severities: list[list[str | None]]
    values: list[list[float | None]]
    run_ids: list[list[int | None]]


class MonitorSummary(_Out):
    """A monitor on the overview: its latest window, status and open alerts."""

    name: str
    description: str = ""
    last_run_id: int | None
    last_window_start: datetime | None
    last_window_end: datetime | None
    last_status: str | None
    last_severity: str | None = Field(None, description="Worst feature severity of the latest run")
    state: str | None = Field(
        None,
        description="The monitor's drift now: the worst open alert's severity, "
        "else the latest run's worst severity",
    )
    open_alerts: int
    alerts: list[OpenAlert] = Field(default_factory=list, description="Open alerts, worst first")
    freshness: Freshness
    strip: Strip
    sparkline: list[SparkPoint]


class AlertOut(_Out):
    """An alert (incident) of one monitor, feature and segment."""

    id: int
    feature: str
    segment: str = Field("", description='The segment: "" for the whole population')
    severity: str
    state: str
    message: str | None
    opened_run_id: int | None
    last_run_id: int | None
    resolved_run_id: int | None
    created_at: datetime
    updated_at: datetime
    notified_at: datetime | None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_note: str | None = None
    resolved_reason: str | None = None


class ActionOut(_Out):
    """An on-call action: an acknowledgement, a snooze or an accepted baseline."""

    id: int
    monitor: str
    feature: str | None = Field(description="The feature acted on; null for the whole monitor")
    alert_id: int | None = Field(description="The acknowledged alert (acknowledge only)")
    kind: str = Field(description="acknowledge, snooze or accept_baseline")
    actor: str
    note: str
    created_at: datetime
    until: datetime | None = Field(description="The end of a snooze")
    range_start: datetime | None = Field(description="The accepted reference range, [start, end)")
    range_end: datetime | None


class NotificationOut(_Out):
    """What was sent (or is waiting to be sent) about an alert."""

    alert_id: int
    event: str
    severity: str
    title: str
    body: str
    sent_at: datetime | None
    attempts: int
    last_error: str | None


class FeatureInfo(_Out):
    """A monitored feature as configured."""

    name: str
    kind: str | None


class TimeRange(_Out):
    """The windows shown: those ending in ``(start, end]`` (UTC)."""

    start: datetime
    end: datetime


class MonitorDetail(_Out):
    """A monitor: what it watches, its thresholds, its latest run and open alerts."""

    name: str
    description: str
    window: str | None
    schedule: str | None
    reference: dict[str, Any]
    features: list[FeatureInfo]
    metrics: list[str]
    threshold_metric: str
    warn: float
    critical: float
    last_run_id: int | None
    last_window_end: datetime | None
    last_status: str | None
    open_alerts: list[AlertOut]
    default_range: TimeRange


class RunSummary(_Out):
    """One run (window) of a monitor."""

    id: int
    window_start: datetime
    window_end: datetime
    status: str
    error: str | None
    duration_seconds: float | None
    severity: str | None = Field(None, description="Worst feature severity of the run")


class Grid(_Out):
    """Values of several series over time buckets: a heatmap or one feature's metrics.

    ``values[i][j]`` is the largest value of ``names[i]`` in the bucket that
    ends at ``ends[j]``; ``bucket_seconds`` is null when each bucket is one
    window, and then ``run_ids`` name the run behind each cell.
    """

    metric: str | None = None
    names: list[str]
    ends: list[datetime]
    starts: list[datetime] = Field(
        description="Each column's first window start: where charts place it (windows are "
        "named by their start everywhere)"
    )
    values: list[list[float | None]]
    severities: list[list[str | None]]
    run_ids: list[list[int | None]]
    bucket_seconds: int | None
    range: TimeRange


class Series(Grid):
    """One feature's metrics over time (in one segment), with thresholds and alert markers."""

    feature: str
    segment: str = Field("", description='The segment: "" for the whole population')
    thresholds: dict[str, list[float | None]] = Field(
        description="Metric to [warn, critical] in force at the latest run"
    )
    alerts: list[dict[str, Any]]


class TopBin(_Out):
    """A bin and its share of the divergence."""

    label: str
    contribution: float | None
    live_share: float
    reference_share: float


class ScoreOut(_Out):
    """One metric of one feature in one run."""

    metric: str
    value: float | None
    value_corrected: float | None
    warn_threshold: float | None
    critical_threshold: float | None


class PairCells(_Out):
    """A pair's joint histogram as a grid: what the run page draws as a heatmap.

    ``contributions[i][j]`` is cell (``x_labels[i]``, ``y_labels[j]``)'s share
    of the joint's KL (the stored cells are row-major, ``x`` outer); the
    shares are of the live and reference rows. ``kl_marginal`` (how much
    ``x`` itself moved) plus ``kl_conditional`` (how much the relationship
    changed) is the joint's KL.
    """

    x_labels: list[str]
    y_labels: list[str]
    contributions: list[list[float | None]]
    live_shares: list[list[float]]
    reference_shares: list[list[float]]
    kl: float | None
    kl_marginal: float | None
    kl_conditional: float | None


class FeatureRun(_Out):
    """One feature of one run (in one segment): its scores, sample sizes and histograms."""

    feature: str
    segment: str = Field("", description='The segment: "" for the whole population')
    kind: str | None = Field(
        None, description="The baseline's kind: numeric, categorical, text or pair"
    )
    severity: str
    p_value: float | None
    p_adjusted: float | None
    n_current: int
    n_reference: int
    missing_rate: float
    scores: list[ScoreOut]
    labels: list[str]
    counts: list[int]
    reference_counts: list[int]
    contributions: list[float | None]
    top_bins: list[TopBin]
    pair: PairCells | None = Field(None, description="A pair's cells as a grid (kind pair)")


class RunDetail(_Out):
    """A run: its window, status, every feature's histograms and scores, its alerts."""

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
    features: list[FeatureRun]
    alerts: list[AlertOut]
    notifications: list[NotificationOut]
    previous_run_id: int | None
    next_run_id: int | None
    segment: str = Field("", description='The segment shown: "" for the whole population')
    segments: list[str] = Field(
        default_factory=list,
        description='Every segment the run scored ("" first, then largest first)',
    )


class SegmentTableOut(_Out):
    """One run's segments by features: ``values[i][j]`` is ``features[j]`` in ``segments[i]``."""

    run_id: int | None
    metric: str
    segments: list[str] = Field(description='"" (the whole population) first, then largest first')
    features: list[str]
    values: list[list[float | None]] = Field(description="The metric (KL: bias-corrected)")
    severities: list[list[str | None]]
    n_current: list[list[int | None]]
    n_reference: list[list[int | None]]
