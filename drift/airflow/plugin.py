"""The Airflow plugin: the drift dashboard mounted in the API server, behind Airflow's login."""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI

__all__ = ["DriftPlugin", "create_plugin_app"]


def _guards() -> list[Any]:
    """Airflow's own authentication, when this Airflow has it (an internal module)."""
    try:
        from airflow.api_fastapi.core_api.security import requires_authenticated
    except ImportError:  # pragma: no cover - a future Airflow moved it: fail closed below
        return []
    return [Depends(requires_authenticated())]


def create_plugin_app() -> FastAPI:
    """The app mounted at ``/drift``: monitors and their latest window, as JSON.

    Every route requires an authenticated Airflow user (the UI's token cookie
    or a Bearer token); plugin apps are public otherwise.
    """
    guards = _guards()
    app = FastAPI(title="airflow-drift", dependencies=guards)
    if not guards:  # pragma: no cover - refuse to serve results to anyone unauthenticated
        return app

    @app.get("/api/monitors")
    def monitors() -> list[dict[str, Any]]:
        from drift.airflow.connections import results_url
        from drift.store import ResultsStore

        store = ResultsStore(results_url())
        try:
            return [
                {
                    "name": m.name,
                    "last_window_end": m.last_window_end.isoformat() if m.last_window_end else None,
                    "last_status": m.last_status,
                    "open_alerts": m.open_alerts,
                }
                for m in store.monitors_overview()
            ]
        finally:
            store.close()

    return app


class DriftPlugin(AirflowPlugin):
    """Mounts the drift app at ``/drift`` and links it from the UI's navigation."""

    name = "drift"
    fastapi_apps = [  # noqa: RUF012 - AirflowPlugin declares these as plain lists
        {"app": create_plugin_app(), "url_prefix": "/drift", "name": "Drift"}
    ]
    external_views = [  # noqa: RUF012
        {"name": "Drift", "href": "drift/api/monitors", "destination": "nav", "url_route": "drift"}
    ]
