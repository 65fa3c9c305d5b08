"""The drift dashboard: a FastAPI app over the results store, with on-call actions.

Run it with ``drift dashboard --results-url URL`` (bound to 127.0.0.1 by
default) or inside Airflow, where :mod:`drift.airflow.plugin` mounts the same
app at ``/drift`` behind Airflow's login. It changes nothing unless its
:class:`~drift.dashboard.access.Access` lets the viewer act (acknowledge an
alert, snooze notifications, accept a new baseline).
"""

from drift.dashboard.app import create_app

__all__ = ["create_app"]
