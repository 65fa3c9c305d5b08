"""Shared by the access and action tests in Airflow: a store with two monitors, an API client.

``alpha_orders`` and ``beta_orders`` are the demo monitor under two names,
each backfilled over the demo's shifted days, so each has runs and open
alerts. The API server is Airflow's own app with :mod:`per_dag_auth`'s auth
manager; its ``/drift`` mount is a fresh plugin app (the plugin caches its
dashboard, which an earlier test may have built over another store).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

MONITORS = ("alpha_orders", "beta_orders")
DEMO_MONITOR = Path(__file__).resolve().parents[2] / "dags" / "monitors" / "demo_events.yaml"


def fill_two_monitors(folder: Path) -> str:
    """A migrated SQLite results store with :data:`MONITORS` backfilled; returns its URL."""
    from drift.config import load_monitor
    from drift.run import backfill
    from drift.sources.demo_data import DEMO_START, make_demo_source
    from drift.store import ResultsStore, upgrade

    source_url = f"sqlite:///{folder / 'source.db'}"
    make_demo_source(source_url)
    os.environ["DRIFT_DEMO_SOURCE_URL"] = source_url
    url = f"sqlite:///{folder / 'drift.db'}"
    upgrade(url)
    store = ResultsStore(url)
    try:
        demo = load_monitor(DEMO_MONITOR)
        start = DEMO_START + timedelta(days=14)
        for name in MONITORS:
            monitor = demo.model_copy(update={"name": name})
            backfill(monitor, start, start + timedelta(days=14), store=store)
    finally:
        store.close()
    return url


def airflow_client(results: str) -> Iterator[Any]:
    """Airflow's API server app with per-DAG rights, its /drift mount over ``results``."""
    from airflow.api_fastapi import app as airflow_app
    from fastapi.testclient import TestClient
    from starlette.routing import Mount

    from drift.airflow.plugin import PREFIX, create_plugin_app

    saved = {k: os.environ.get(k) for k in ("AIRFLOW__CORE__AUTH_MANAGER", "DRIFT_RESULTS_URL")}
    os.environ["AIRFLOW__CORE__AUTH_MANAGER"] = "per_dag_auth.PerDagAuthManager"
    os.environ["DRIFT_RESULTS_URL"] = results
    airflow_app.purge_cached_app()
    try:
        app = airflow_app.create_app()
        (mount,) = [r for r in app.routes if isinstance(r, Mount) and r.path == PREFIX]
        mount.app = create_plugin_app()
        with TestClient(app, follow_redirects=False) as client:
            yield client
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        airflow_app.purge_cached_app()  # later tests get the configured auth manager again


def bearer(user: str) -> dict[str, str]:
    """An ``Authorization`` header with a JWT that Airflow's auth manager issued for ``user``."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=user, role="viewer"))
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def as_cookie(client: Any, user: str) -> Iterator[None]:
    """Send ``user``'s token as Airflow's ``_token`` cookie, as a signed-in browser does."""
    token = bearer(user)["Authorization"].removeprefix("Bearer ")
    client.cookies.set("_token", token)
    try:
        yield
    finally:
        client.cookies.clear()


def on_call_state(results: str, monitor: str) -> list[tuple[Any, ...]]:
    """What the store holds of ``monitor``'s on-call state: its actions and its alerts' marks."""
    from drift.store import ResultsStore

    store = ResultsStore(results)
    try:
        actions = [(a.id, a.kind, a.actor, a.note) for a in store.actions(monitor)]
        alerts = [(a.id, a.state, a.acknowledged_by, a.acknowledged_note, a.resolved_reason)
                  for a in store.alerts(monitor)]  # fmt: skip
        return [*actions, *alerts]
    finally:
        store.close()


def open_alert_id(results: str, monitor: str) -> int:
    """An open, not yet acknowledged alert of ``monitor``."""
    from drift.store import ResultsStore

    store = ResultsStore(results)
    try:
        return next(a.id for a in store.open_alerts(monitor) if a.acknowledged_by is None)
    finally:
        store.close()
