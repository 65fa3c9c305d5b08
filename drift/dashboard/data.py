"""What each page and API call shows, read from the results store.

Every function takes validated inputs (a monitor that exists, an aware UTC
range) and returns the API's models; the JSON API returns them as they are
and the HTML pages embed them for their charts. Unknown monitors, runs and
features raise :class:`NotFoundError`; impossible ranges :class:`BadRangeError`.

Views of a feature are of one segment (``""``, the whole population, unless
asked); a run's worst severity and the monitor's state are over everything
judged, segments included.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from drift.config.durations import parse_duration
from drift.dashboard import morning
from drift.dashboard.pairs import pair_cells, pair_names
from drift.dashboard.schemas import (
    AlertOut,
    FeatureInfo,
    FeatureRun,
    Grid,
    MonitorDetail,
    MonitorSummary,
    NotificationOut,
    RunDetail,
    RunSummary,
    ScoreOut,
    SegmentTableOut,
    Series,
    SparkPoint,
    TimeRange,
    TopBin,
)
from drift.sql.instants import as_utc
from drift.store import AlertRow, ResultsStore
from drift.store.summaries import SEVERITY_RANK, Bucketed

__all__ = [
    "MAX_RANGE",
    "BadRangeError",
    "NotFoundError",
    "alert_out",
    "feature_series",
    "heatmap",
    "monitor_detail",
    "no_monitor",
    "no_run",
    "overview",
    "resolve_range",
    "run_detail",
    "runs",
    "segment_history",
    "segment_table",
]

#: The longest range a page or API call may ask for.
MAX_RANGE = timedelta(days=3 * 366)
#: Windows shown by default: this many of the monitor's windows, and at least a week.
DEFAULT_WINDOWS = 30
MIN_DEFAULT_SPAN = timedelta(days=7)
TOP_BINS = 10


class NotFoundError(LookupError):
    """A monitor, run or feature that the store does not have (HTTP 404)."""


class BadRangeError(ValueError):
    """A time range that cannot be shown (HTTP 422)."""


def no_monitor(name: str) -> str:
    """The 404 text for a monitor not stored, or hidden from the viewer (the same text)."""
    return f"no monitor named {name!r} in the results store"


def no_run(run_id: int) -> str:
    """The 404 text for a run not stored, or of a monitor hidden from the viewer."""
    return f"no run with id {run_id} in the results store"


def alert_out(a: AlertRow) -> AlertOut:
    return AlertOut(
        id=a.id, feature=a.feature, segment=a.segment, severity=a.severity, state=a.state,
        message=a.message,
        opened_run_id=a.opened_run_id, last_run_id=a.last_run_id,
        resolved_run_id=a.resolved_run_id, created_at=a.created_at, updated_at=a.updated_at,
        notified_at=a.notified_at, acknowledged_by=a.acknowledged_by,
        acknowledged_at=a.acknowledged_at, acknowledged_note=a.acknowledged_note,
        resolved_reason=a.resolved_reason,
    )  # fmt: skip


def _worst(severities: Any) -> str | None:
    known = [s for s in severities if s in SEVERITY_RANK]
    return max(known, key=SEVERITY_RANK.__getitem__) if known else None


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def overview(
    store: ResultsStore, readable: Callable[[list[str]], set[str]] | None = None
) -> list[MonitorSummary]:
    """Every monitor: latest window, status, freshness, open alerts, strip and sparkline.

    Runs of windows ending after now (stored before ``drift run`` refused
    them) are not taken for the latest. With ``readable`` (names -> those the
    viewer may read), only those monitors, and nothing of the others.
    """
    with store.reading():  # several small reads per monitor: one connection for all
        return _overview(store, readable, _now())


def _overview(
    store: ResultsStore, readable: Callable[[list[str]], set[str]] | None, now: datetime
) -> list[MonitorSummary]:
    out = []
    every = store.monitors_overview(until=now)
    shown = readable([m.name for m in every]) if readable is not None else None
    for m in every:
        if shown is not None and m.name not in shown:
            continue
        config = store.monitor_config(m.name) or {}
        latest = store.run_scores(m.last_run_id, None) if m.last_run_id is not None else []
        last_severity = _worst(s.severity for s in latest)
        alerts = morning.open_alerts(store, store.open_alerts(m.name), now)
        spark = [
            SparkPoint(window_start=a, window_end=e, value=v) for a, e, v in store.sparkline(m.name)
        ]
        out.append(
            MonitorSummary(
                name=m.name, description=str(config.get("description") or ""),
                last_run_id=m.last_run_id, last_window_start=m.last_window_start,
                last_window_end=m.last_window_end, last_status=m.last_status,
                last_severity=last_severity,
                state=_worst(a.severity for a in alerts) if alerts else last_severity,
                open_alerts=m.open_alerts, alerts=alerts,
                freshness=morning.freshness(config, m.last_window_end, now),
                strip=morning.strip(store, m.name), sparkline=spark,
            )
        )  # fmt: skip
    return out


def _config(store: ResultsStore, name: str) -> dict[str, Any]:
    config = store.monitor_config(name)
    if config is None:
        raise NotFoundError(no_monitor(name))
    return config


def _window_length(config: dict[str, Any]) -> timedelta | None:
    window = config.get("window")
    if window is None:
        return None
    try:
        return (
            parse_duration(window) if isinstance(window, str) else timedelta(seconds=float(window))
        )
    except (ValueError, TypeError):
        return None


def _default_range(config: dict[str, Any], last_end: datetime | None) -> TimeRange:
    """The monitor's latest windows: :data:`DEFAULT_WINDOWS` of them up to ``last_end``."""
    end = last_end or _now()
    length = _window_length(config) or timedelta(days=1)
    return TimeRange(start=end - max(MIN_DEFAULT_SPAN, DEFAULT_WINDOWS * length), end=end)


def monitor_detail(store: ResultsStore, name: str) -> MonitorDetail:
    """What the monitor watches, its thresholds, latest run, open alerts and default range."""
    config = _config(store, name)
    now = _now()
    status = next(iter(store.monitors_overview(name, until=now)), None)
    thresholds = config.get("thresholds") or {}
    features = [
        FeatureInfo(name=str(f.get("name")), kind=f.get("kind"))
        for f in (config.get("features") or [])
        if isinstance(f, dict)
    ]
    if not features:  # inferred: the features of the baseline in force
        features = [FeatureInfo(name=b.feature, kind=b.kind) for b in store.baseline_in_force(name)]
    named = {f.name for f in features}
    features += [FeatureInfo(name=n, kind="pair") for n in pair_names(config) if n not in named]
    last_end = status.last_window_end if status else None
    with_data = store.latest_end_with_data(name, now)
    return MonitorDetail(
        name=name, description=str(config.get("description") or ""),
        window=None if config.get("window") is None else str(config["window"]),
        schedule=config.get("schedule"), reference=dict(config.get("reference") or {}),
        features=features, metrics=[str(m) for m in config.get("metrics") or ["kl"]],
        threshold_metric=str(thresholds.get("metric", "kl")),
        warn=float(thresholds.get("warn", math.nan)),
        critical=float(thresholds.get("critical", math.nan)),
        last_run_id=status.last_run_id if status else None, last_window_end=last_end,
        last_status=status.last_status if status else None,
        open_alerts=[alert_out(a) for a in store.open_alerts(name)],
        default_range=_default_range(config, with_data or last_end),
    )  # fmt: skip


def resolve_range(detail: MonitorDetail, start: datetime | None, end: datetime | None) -> TimeRange:
    """The range asked for, with the monitor's defaults for what was left out.

    Raises
    ------
    BadRangeError
        If ``start`` is not before ``end`` or the range is longer than
        :data:`MAX_RANGE`.
    """
    default = detail.default_range
    if end is None:
        end = default.end if start is None else as_utc(start) + (default.end - default.start)
    end = as_utc(end)
    start = as_utc(start) if start is not None else end - (default.end - default.start)
    if start >= end:
        raise BadRangeError(f"start ({start.isoformat()}) must be before end ({end.isoformat()})")
    if end - start > MAX_RANGE:
        raise BadRangeError(
            f"range of {(end - start).days} days is too long: at most {MAX_RANGE.days} days"
        )
    return TimeRange(start=start, end=end)


def runs(
    store: ResultsStore, name: str, span: TimeRange, limit: int, offset: int = 0
) -> list[RunSummary]:
    """The newest ``limit`` runs in ``span`` after the ``offset`` newest, newest first."""
    rows = store.latest_runs(name, span.start, span.end, limit, offset)
    return [RunSummary(**row) for row in rows]


def _grid_fields(b: Bucketed, span: TimeRange) -> dict[str, Any]:
    return {
        "names": list(b.names), "ends": list(b.ends), "starts": list(b.starts),
        "values": [list(v) for v in b.values], "severities": [list(v) for v in b.severities],
        "run_ids": [list(v) for v in b.run_ids],
        "bucket_seconds": None if b.width is None else int(b.width.total_seconds()),
        "range": span,
    }  # fmt: skip


def heatmap(store: ResultsStore, name: str, metric: str, span: TimeRange) -> Grid:
    """Every feature's ``metric`` over ``span`` (at most 200 columns)."""
    grid = store.heatmap_grid(name, metric, span.start, span.end)
    return Grid(metric=metric, **_grid_fields(grid, span))


def _check_feature(detail: MonitorDetail, feature: str) -> None:
    known = {f.name for f in detail.features}
    if known and feature not in known:
        raise NotFoundError(f"monitor {detail.name!r} has no feature {feature!r}")


def feature_series(
    store: ResultsStore, detail: MonitorDetail, feature: str, span: TimeRange, segment: str = ""
) -> Series:
    """One feature's stored metrics over ``span`` (in ``segment``), its thresholds and alerts."""
    _check_feature(detail, feature)
    grid = store.feature_series(detail.name, feature, span.start, span.end, segment=segment)
    thresholds = {
        metric: [warn, critical]
        for metric, (warn, critical) in store.thresholds_of(detail.last_run_id).items()
    }
    markers = [
        m
        for m in store.alert_markers(detail.name, span.start, span.end)
        if (m["feature"], m["segment"]) == (feature, segment)
    ]
    return Series(
        feature=feature, segment=segment, thresholds=thresholds, alerts=markers,
        **_grid_fields(grid, span),
    )  # fmt: skip


def segment_history(
    store: ResultsStore, detail: MonitorDetail, feature: str, metric: str, span: TimeRange
) -> Grid:
    """One feature's ``metric`` in each of its segments over ``span`` (``names``: segments)."""
    _check_feature(detail, feature)
    grid = store.segment_series(detail.name, feature, metric, span.start, span.end)
    return Grid(metric=metric, **_grid_fields(grid, span))


def segment_table(store: ResultsStore, run_id: int | None, metric: str = "kl") -> SegmentTableOut:
    """Run ``run_id``'s segments by features (a monitor page shows its latest run's)."""
    if run_id is None:
        return SegmentTableOut(run_id=None, metric=metric, segments=[], features=[], values=[],
                               severities=[], n_current=[], n_reference=[])  # fmt: skip
    t = store.segment_table(run_id, metric)
    return SegmentTableOut(
        run_id=run_id, metric=metric, segments=list(t.segments), features=list(t.features),
        values=[list(r) for r in t.values], severities=[list(r) for r in t.severities],
        n_current=[list(r) for r in t.n_current], n_reference=[list(r) for r in t.n_reference],
    )  # fmt: skip


def _shares(counts: tuple[int, ...]) -> list[float]:
    total = sum(counts)
    return [c / total if total else 0.0 for c in counts]


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def run_detail(store: ResultsStore, run_id: int, segment: str = "") -> RunDetail:
    """One run: every feature's histograms beside the reference's, scores and alerts.

    The features of ``segment`` (default the whole population); a pair's
    cells also as a grid (:func:`drift.dashboard.pairs.pair_cells`).
    """
    run = store.run(run_id)
    if run is None:
        raise NotFoundError(no_run(run_id))
    segments = store.run_segments(run_id)
    if segment and segment not in segments:
        raise NotFoundError(f"run {run_id} has no segment {segment!r}")
    scores = store.run_scores(run_id, segment)
    by_feature: dict[str, list[Any]] = {}
    for s in scores:
        by_feature.setdefault(s.feature, []).append(s)
    histograms = {h.feature: h for h in store.run_histograms(run_id, segment)}
    baselines = {b.feature: b for b in store.baseline_in_force(run.monitor)}
    features = []
    for feature in sorted(set(by_feature) | set(histograms)):
        rows = by_feature.get(feature, [])
        first = rows[0] if rows else None
        h = histograms.get(feature)
        labels, counts = (h.labels, h.counts) if h else ((), ())
        reference = h.reference_counts if h else ()
        contributions = [_finite(c) for c in h.contributions] if h else []
        live_shares, reference_shares = _shares(counts), _shares(reference)
        ranked = sorted(
            (i for i, c in enumerate(contributions) if c is not None and c > 0),
            key=lambda i: -(contributions[i] or 0.0),
        )[:TOP_BINS]
        base = baselines.get(feature)
        kind = base.kind if base is not None else None
        pair = None
        if kind == "pair":
            metrics = {s.metric: s.value for s in rows}
            pair = pair_cells(base.binning_spec if base else None, labels, counts, reference,
                              contributions, metrics)  # fmt: skip
        features.append(
            FeatureRun(
                feature=feature, segment=segment, kind=kind, pair=pair,
                severity=_worst(s.severity for s in rows) or "ok",
                p_value=first.p_value if first else None,
                p_adjusted=first.p_adjusted if first else None,
                n_current=first.n_current if first else sum(counts),
                n_reference=first.n_reference if first else sum(reference),
                missing_rate=first.missing_rate if first else 0.0,
                scores=[
                    ScoreOut(metric=s.metric, value=s.value, value_corrected=s.value_corrected,
                             warn_threshold=s.warn_threshold,
                             critical_threshold=s.critical_threshold)
                    for s in rows
                ],
                labels=list(labels), counts=list(counts), reference_counts=list(reference),
                contributions=contributions,
                top_bins=[
                    TopBin(label=labels[i], contribution=contributions[i],
                           live_share=live_shares[i], reference_share=reference_shares[i])
                    for i in ranked
                ],
            )
        )  # fmt: skip
    said = store.run_alerts(run_id)
    previous, following = store.neighbour_runs(run.monitor, run.window_end)
    return RunDetail(
        id=run.id, monitor=run.monitor, window_start=run.window_start,
        window_end=run.window_end, status=run.status, error=run.error,
        started_at=run.started_at, finished_at=run.finished_at,
        duration_seconds=run.duration_seconds, airflow_run_id=run.airflow_run_id,
        features=features, alerts=[alert_out(a) for a in said.alerts],
        notifications=[NotificationOut(**n) for n in said.notifications],
        previous_run_id=previous, next_run_id=following, segment=segment, segments=segments,
    )  # fmt: skip
