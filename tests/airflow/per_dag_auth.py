"""An auth manager for the tests: Airflow's SimpleAuthManager with per-DAG rights.

SimpleAuthManager lets every user read every DAG, so the rights of a
FAB-style deployment are set up here: :data:`RIGHTS` maps a user to the
methods they may use on each DAG; anything not listed is refused. Selected
with ``AIRFLOW__CORE__AUTH_MANAGER=per_dag_auth.PerDagAuthManager`` (this
folder is on ``sys.path`` while its tests run).
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

#: user -> DAG id -> methods allowed.
RIGHTS: dict[str, dict[str, set[str]]] = {
    "alice": {"drift_alpha_orders": {"GET", "PUT"}, "drift_beta_orders": {"GET"}},
    "bob": {"drift_beta_orders": {"GET"}},
}


class PerDagAuthManager(SimpleAuthManager):  # type: ignore[misc]
    """Grants exactly :data:`RIGHTS` on DAGs; other resources as SimpleAuthManager does."""

    def is_authorized_dag(
        self, *, method: str, user: Any, access_entity: Any = None, details: Any = None
    ) -> bool:
        dag = getattr(details, "id", None)
        return dag is not None and method in RIGHTS.get(user.get_name(), {}).get(dag, set())
