"""The dashboard's HTML pages: overview, monitor and run.

Pages are rendered by Jinja2 with autoescaping (every value from the store is
escaped), and each embeds its data as JSON for the charts, which
``static/dashboard.js`` draws with the plotly.js bundled in the ``plotly``
package. Links carry the mount's ``root_path`` (see :func:`link`), so they
work standalone and under Airflow's ``/drift`` prefix.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from drift.dashboard import data
from drift.dashboard.access import StandaloneToken
from drift.dashboard.api import (
    End,
    Metric,
    ReadableMonitor,
    ReadableRun,
    Segment,
    Start,
    Store,
    check_metric,
    get_access,
)
from drift.dashboard.oncall import KINDS, csrf_token

__all__ = ["link", "router", "templates"]

templates = Jinja2Templates(directory=FilePath(__file__).with_name("templates"))
#: Rows of the monitor page's runs table.
RUNS_PER_PAGE = 50
router = APIRouter(include_in_schema=False)


def link(request: Request, route: str, query: dict[str, Any] | None = None, **params: Any) -> str:
    """The path of this app's ``route`` under the mount's prefix, with a query string.

    Paths come from this app's own router plus the request's ``root_path``,
    not from ``request.url_for``: that searches the outermost app's routes,
    which inside Airflow cannot see into the guarded mount.
    """
    path = request.app.router.url_path_for(route, **{k: str(v) for k, v in params.items()})
    full = str(request.scope.get("root_path", "")).rstrip("/") + str(path)
    given = {k: v for k, v in (query or {}).items() if v is not None}
    return f"{full}?{urlencode(given)}" if given else full


templates.env.globals["link"] = link


def _render(request: Request, template: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context)


def _ago(seconds: float) -> str:
    """A duration as people say it: ``45 min``, ``5 h``, ``3 d``."""
    if seconds < 3600:
        return f"{max(0, int(seconds // 60))} min"
    if seconds < 2 * 86_400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86_400)} d"


templates.env.filters["ago"] = _ago


@router.get("/", response_class=HTMLResponse, name="page_overview")
def overview_page(request: Request, store: Store) -> HTMLResponse:
    """Every monitor: its last window, status, open alerts and a sparkline."""
    monitors = data.overview(store, lambda names: get_access(request).readable(request, names))
    payload = {
        "monitors": [m.model_dump(mode="json") for m in monitors],
        "links": {"monitor": link(request, "page_monitor", name="__NAME__")},
    }
    return _render(request, "overview.html", monitors=monitors, payload=payload)


@router.get("/monitors/{name}", response_class=HTMLResponse, name="page_monitor")
def monitor_page(
    request: Request,
    store: Store,
    name: ReadableMonitor,
    start: Start = None,
    end: End = None,
    metric: Metric = "kl",
    feature: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, lt=2**31, description="Page of the runs table")] = 1,
    per_page: Annotated[int, Query(ge=1, le=500, description="Runs per page")] = RUNS_PER_PAGE,
) -> HTMLResponse:
    """One monitor over a time range: heatmap, a feature's metrics, runs and alerts.

    A monitor with segments also gets its latest run's segments by features
    and the chosen feature's KL per segment over time.
    """
    detail = data.monitor_detail(store, name)
    check_metric(detail, metric)
    span = data.resolve_range(detail, start, end)
    grid = data.heatmap(store, name, metric, span)
    if feature is None:
        feature = _most_drifted(grid) or (detail.features[0].name if detail.features else None)
    series = data.feature_series(store, detail, feature, span) if feature else None
    segments = data.segment_table(store, detail.last_run_id)
    by_segment = None
    if feature and len(segments.segments) > 1:
        by_segment = data.segment_history(store, detail, feature, "kl", span)
    total = store.count_runs(name, span.start, span.end)
    runs = data.runs(store, name, span, per_page, (page - 1) * per_page)
    here = {"start": span.start.isoformat(), "end": span.end.isoformat()}
    query = {**here, "metric": metric, "feature": feature,
             "per_page": per_page if per_page != RUNS_PER_PAGE else None}  # fmt: skip
    pager = {
        "first": (page - 1) * per_page + 1, "last": (page - 1) * per_page + len(runs),
        "total": total,
        "newer": link(request, "page_monitor", {**query, "page": page - 1}, name=name)
        if page > 1 else None,
        "older": link(request, "page_monitor", {**query, "page": page + 1}, name=name)
        if page * per_page < total else None,
    }  # fmt: skip
    payload = {
        "monitor": detail.model_dump(mode="json"),
        "heatmap": grid.model_dump(mode="json"),
        "series": None if series is None else series.model_dump(mode="json"),
        "by_segment": None if by_segment is None else by_segment.model_dump(mode="json"),
        "metric": metric,
        "links": {
            "run": link(request, "page_run", run_id="0").removesuffix("0") + "__ID__",
            "monitor": link(request, "page_monitor", name=name),
            "here": here,
        },
    }
    on_call = _on_call(request, store, name)
    payload["csrf"] = on_call.pop("csrf")
    return _render(
        request, "monitor.html", detail=detail, span=span, metric=metric, feature=feature,
        runs=runs, pager=pager, payload=payload, presets=_presets(span.end), segments=segments,
        **on_call,
    )  # fmt: skip


def _on_call(request: Request, store: Store, name: str) -> dict[str, Any]:
    """The monitor page's On call section: may the viewer act, snoozes, history, sign-in link."""
    access = get_access(request)
    viewer = access.viewer(request)
    sign_in = None
    if isinstance(access, StandaloneToken) and viewer is None:
        sign_in = link(request, "sign_in", {"next": link(request, "page_monitor", name=name)})
    can_act = viewer is not None and access.may_edit(request, name)
    csrf = None  # for scripts of the page: the X-CSRF-Token of each action
    if can_act and viewer is not None and viewer.session is not None:
        secret, session = request.app.state.secret, viewer.session
        csrf = {kind: csrf_token(secret, session, name, kind) for kind in KINDS}
    return {
        "can_act": can_act,
        "csrf": csrf,
        "snoozes": store.active_snoozes(name),
        "history": store.actions(name),
        "sign_in": sign_in,
    }


@router.get("/runs/{run_id}", response_class=HTMLResponse, name="page_run")
def run_page(
    request: Request, store: Store, run_id: ReadableRun, segment: Segment = ""
) -> HTMLResponse:
    """One run: reference vs live histograms per feature, the bins driving drift, alerts.

    ``segment`` picks the rows shown (default the whole population); a pair's
    cells are drawn as a heatmap of their KL contributions.
    """
    run = data.run_detail(store, run_id, segment)
    payload = {"run": run.model_dump(mode="json")}
    touching: dict[int, list[Any]] = {a.id: [] for a in run.alerts}
    if run.alerts:
        for h in store.actions(run.monitor):
            for (
                a
            ) in run.alerts:  # its acknowledgement, or a snooze or baseline of its feature since
                if h.alert_id == a.id or (
                    h.alert_id is None and h.feature in (None, a.feature)
                    and h.created_at >= a.created_at
                ):  # fmt: skip
                    touching[a.id].append(h)
    return _render(request, "run.html", run=run, payload=payload, touching=touching)


@router.get("/monitors/{name}/runs/{run_id}", name="page_monitor_run")
def monitor_run_page(
    request: Request,
    store: Store,
    name: ReadableMonitor,
    run_id: ReadableRun,
    segment: Segment = "",
) -> RedirectResponse:
    """The address alert messages link to: redirects to the run's page (and its segment)."""
    run = store.run(run_id)
    if run is None or run.monitor != name:
        raise data.NotFoundError(f"monitor {name!r} has no run with id {run_id}")
    target = link(request, "page_run", {"segment": segment or None}, run_id=run_id)
    return RedirectResponse(target, status_code=307)


def _most_drifted(grid: Any) -> str | None:
    """The feature with the largest value in the grid's latest column."""
    if not grid.names or not grid.ends:
        return None
    last = [row[-1] if row[-1] is not None else -1.0 for row in grid.values]
    return str(grid.names[max(range(len(last)), key=last.__getitem__)])


def _presets(end: Any) -> list[tuple[str, str]]:
    """Quick ranges ending at ``end``: (label, start as ISO text)."""
    from datetime import timedelta

    spans = [("1 day", 1), ("7 days", 7), ("30 days", 30), ("90 days", 90), ("1 year", 365)]
    return [(label, (end - timedelta(days=days)).isoformat()) for label, days in spans]
