"""The drift dashboard: a read-only FastAPI app over the results store.

Run it with ``drift dashboard --results-url URL`` (bound to 127.0.0.1 by
default) or inside Airflow, where :mod:`drift.airflow.plugin` mounts the same
app at ``/drift`` behind Airflow's login.
"""

from drift.dashboard.app import create_app

__all__ = ["create_app"]
