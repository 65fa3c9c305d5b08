"""The Airflow plugin: the drift dashboard in the API server, behind Airflow's login.

Plugin apps are public unless guarded, so every route of the mounted app
depends on Airflow's ``requires_authenticated()`` (the UI's ``_token``
cookie or a Bearer token; 401 otherwise). The dashboard is built on the
first request, not at import: this module is also imported by workers and
the dag-processor, where looking up the results connection at import time
would be wasted work or impossible.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import APIRouter, Depends, FastAPI

__all__ = ["DriftPlugin", "create_plugin_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _guards() -> list[Any]:
    """Airflow's own authentication as FastAPI dependencies.

    Raises
    ------
    RuntimeError
        If this Airflow no longer has it (an internal module): serving drift
        results to anyone unauthenticated is not an option.
    """
    try:
        from airflow.api_fastapi.core_api.security import requires_authenticated
    except ImportError as exc:  # pragma: no cover - a future Airflow moved it
        raise RuntimeError(
            "airflow-drift: airflow.api_fastapi.core_api.security.requires_authenticated is "
            "gone from this Airflow, so the dashboard cannot be guarded and is not mounted"
        ) from exc
    return [Depends(requires_authenticated())]


def _fallback_router() -> APIRouter:
    """Monitors and their latest window as JSON, until ``drift.dashboard`` exists."""
    router = APIRouter()

    @router.get("/")
    @router.get("/api/monitors")
    def monitors() -> list[dict[str, Any]]:
        from drift.airflow.connections import open_results_store

        with open_results_store() as store:
            return [
                {
                    "name": m.name,
                    "last_window_end": m.last_window_end.isoformat() if m.last_window_end else None,
                    "last_status": m.last_status,
                    "open_alerts": m.open_alerts,
                }
                for m in store.monitors_overview()
            ]

    return router


def _dashboard_router() -> APIRouter:
    """The routes of ``drift.dashboard.create_app(results_url())``, or the JSON fallback."""
    from drift.airflow.connections import results_url

    try:
        from drift.dashboard import create_app  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return _fallback_router()
    dashboard: FastAPI = create_app(results_url())
    return dashboard.router


def create_plugin_app() -> FastAPI:
    """The app mounted at ``/drift``, every route behind Airflow's authentication.

    Returns
    -------
    fastapi.FastAPI
        A small app whose routes are the dashboard's, built on first use.
    """
    guards = _guards()
    lock = threading.Lock()
    built: list[FastAPI] = []

    def build() -> FastAPI:
        with lock:
            if not built:
                inner = FastAPI(title="airflow-drift")
                # include_router copies each route with the guards in front of it.
                inner.include_router(_dashboard_router(), dependencies=guards)
                built.append(inner)
        return built[0]

    async def lazy_dashboard(scope: Scope, receive: Receive, send: Send) -> None:
        await build()(scope, receive, send)

    app = FastAPI(title="airflow-drift")
    app.mount("/", lazy_dashboard)
    return app


class DriftPlugin(AirflowPlugin):
    """Mounts the drift dashboard at ``/drift`` and links it from the UI's navigation."""

    name = "drift"
    fastapi_apps = [  # noqa: RUF012 - AirflowPlugin declares these as plain lists
        {"app": create_plugin_app(), "url_prefix": "/drift", "name": "Drift dashboard"}
    ]
    external_views = [  # noqa: RUF012
        {"name": "Drift", "href": "drift/", "url_route": "drift", "destination": "nav"}
    ]
