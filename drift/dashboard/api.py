"""The dashboard's JSON API reads (every input validated, every query bound).

The on-call actions are in :mod:`drift.dashboard.api_actions`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from drift.dashboard import data
from drift.dashboard.access import Access
from drift.dashboard.schemas import (
    AlertOut,
    Grid,
    MonitorDetail,
    MonitorSummary,
    RunDetail,
    RunSummary,
    SegmentTableOut,
    Series,
)
from drift.store import ResultsStore

__all__ = [
    "End",
    "Metric",
    "MonitorName",
    "ReadableMonitor",
    "ReadableRun",
    "Segment",
    "Start",
    "Store",
    "check_metric",
    "get_access",
    "get_store",
    "router",
]


def get_store(request: Request) -> ResultsStore:
    """The app's results store (one per app, made by :func:`drift.dashboard.create_app`)."""
    store: ResultsStore = request.app.state.store
    return store


def get_access(request: Request) -> Access:
    """The app's :class:`~drift.dashboard.access.Access` (who may read and change what)."""
    access: Access = request.app.state.access
    return access


Store = Annotated[ResultsStore, Depends(get_store)]
MonitorName = Annotated[str, Path(min_length=1, max_length=200, description="Monitor name")]
RunId = Annotated[int, Path(ge=0, lt=2**53, description="Run id")]


def readable_monitor(request: Request, name: MonitorName) -> str:
    """The path's monitor, if the viewer may read it; else the 404 of a monitor not stored."""
    if name not in get_access(request).readable(request, [name]):
        raise data.NotFoundError(data.no_monitor(name))
    return name


def readable_run(request: Request, store: Store, run_id: RunId) -> int:
    """The path's run, if the viewer may read its monitor; else the 404 of a run not stored."""
    run = store.run(run_id)
    if run is None or run.monitor not in get_access(request).readable(request, [run.monitor]):
        raise data.NotFoundError(data.no_run(run_id))
    return run_id


#: A monitor name from the path that the viewer may read (404 otherwise).
ReadableMonitor = Annotated[str, Depends(readable_monitor)]
#: A run id from the path whose monitor the viewer may read (404 otherwise).
ReadableRun = Annotated[int, Depends(readable_run)]
Start = Annotated[
    datetime | None,
    Query(description="Show windows ending after this time (ISO 8601; UTC unless a zone is given)"),
]
End = Annotated[
    datetime | None, Query(description="Show windows ending at or before this time (ISO 8601)")
]
Metric = Annotated[
    str, Query(min_length=1, max_length=50, pattern=r"^[a-z_]+$", description="A stored metric")
]
Segment = Annotated[
    str,
    Query(
        max_length=200,
        description='A segment such as "country=BR"; empty (the default) for the whole population',
    ),
]

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the app answers (the store is not touched)."""
    return {"status": "ok"}


@router.get("/monitors")
def list_monitors(request: Request, store: Store) -> list[MonitorSummary]:
    """Every monitor the viewer may read, with its latest window, open alerts and a sparkline."""
    return data.overview(store, lambda names: get_access(request).readable(request, names))


@router.get("/monitors/{name}")
def get_monitor(store: Store, name: ReadableMonitor) -> MonitorDetail:
    """One monitor: its features, thresholds, latest run, open alerts and default range."""
    return data.monitor_detail(store, name)


@router.get("/monitors/{name}/runs")
def list_runs(
    store: Store,
    name: ReadableMonitor,
    start: Start = None,
    end: End = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, lt=2**31, description="Skip this many newest runs")] = 0,
) -> list[RunSummary]:
    """The monitor's newest runs in the range, newest first (page with ``offset``)."""
    detail = data.monitor_detail(store, name)
    return data.runs(store, name, data.resolve_range(detail, start, end), limit, offset)


def check_metric(detail: MonitorDetail, metric: str) -> None:
    """Raise :class:`data.NotFoundError` unless the monitor stores ``metric``."""
    if metric not in {"kl", *detail.metrics}:
        raise data.NotFoundError(
            f"monitor {detail.name!r} stores no metric {metric!r} "
            f"(it stores {', '.join(sorted({'kl', *detail.metrics}))})"
        )


@router.get("/monitors/{name}/heatmap")
def get_heatmap(
    store: Store, name: ReadableMonitor, start: Start = None, end: End = None, metric: Metric = "kl"
) -> Grid:
    """Feature x window grid of one metric (bias-corrected KL for ``kl``), at most 200 columns."""
    detail = data.monitor_detail(store, name)
    check_metric(detail, metric)
    return data.heatmap(store, name, metric, data.resolve_range(detail, start, end))


@router.get("/monitors/{name}/features/{feature}/series")
def get_series(
    store: Store,
    name: ReadableMonitor,
    feature: Annotated[str, Path(min_length=1, max_length=200)],
    start: Start = None,
    end: End = None,
    segment: Segment = "",
) -> Series:
    """One feature's metrics over time (in one segment), with thresholds and alert markers."""
    detail = data.monitor_detail(store, name)
    span = data.resolve_range(detail, start, end)
    return data.feature_series(store, detail, feature, span, segment)


@router.get("/monitors/{name}/features/{feature}/segments")
def get_segment_history(
    store: Store,
    name: ReadableMonitor,
    feature: Annotated[str, Path(min_length=1, max_length=200)],
    start: Start = None,
    end: End = None,
    metric: Metric = "kl",
) -> Grid:
    """One feature's metric in each of its segments over time (``names`` are the segments)."""
    detail = data.monitor_detail(store, name)
    check_metric(detail, metric)
    span = data.resolve_range(detail, start, end)
    return data.segment_history(store, detail, feature, metric, span)


@router.get("/monitors/{name}/segments")
def get_segment_table(
    store: Store,
    name: ReadableMonitor,
    metric: Metric = "kl",
    run_id: Annotated[
        int | None, Query(ge=0, lt=2**53, description="A run of the monitor (default its latest)")
    ] = None,
) -> SegmentTableOut:
    """Segments by features of the monitor's latest run (or ``run_id``): severity and metric."""
    detail = data.monitor_detail(store, name)
    check_metric(detail, metric)
    if run_id is not None:
        run = store.run(run_id)
        if run is None or run.monitor != name:
            raise data.NotFoundError(f"monitor {name!r} has no run with id {run_id}")
    return data.segment_table(store, detail.last_run_id if run_id is None else run_id, metric)


@router.get("/monitors/{name}/alerts")
def list_alerts(
    store: Store,
    name: ReadableMonitor,
    state: Annotated[str | None, Query(pattern="^(open|resolved)$")] = None,
) -> list[AlertOut]:
    """The monitor's alerts, oldest first (``state`` filters open or resolved ones)."""
    data.monitor_detail(store, name)
    rows = store.open_alerts(name) if state == "open" else store.alerts(name)
    if state == "resolved":
        rows = [a for a in rows if a.state == "resolved"]
    return [data.alert_out(a) for a in rows]


@router.get("/runs/{run_id}")
def get_run(store: Store, run_id: ReadableRun, segment: Segment = "") -> RunDetail:
    """One run: every feature's live histogram beside the reference's, scores and alerts.

    Of one ``segment`` (default the whole population); ``segments`` lists them all.
    """
    return data.run_detail(store, run_id, segment)
