"""The dashboard's access rules inside Airflow: each monitor is readable as its DAG is.

A user may read monitor ``name`` when Airflow's auth manager lets them read
the DAG ``drift_<name>`` (``method="GET"``), and act on it (acknowledge,
snooze, accept a baseline) when it lets them edit that DAG (``"PUT"``),
whatever the auth manager (Simple, FAB, Keycloak, a company's own). The
user is the one the plugin's guard authenticated (see
:mod:`drift.airflow.plugin`), found in the request's ASGI scope under
:data:`USER_SCOPE_KEY`: the token is decoded once per request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request

from drift.airflow.dags import dag_id
from drift.dashboard.access import Viewer

__all__ = ["USER_SCOPE_KEY", "AirflowAccess", "csrf_secret"]

#: Where the plugin's guard leaves the authenticated Airflow user in the ASGI scope.
USER_SCOPE_KEY = "airflow_drift.user"


def _user(request: Request) -> Any:
    user = request.scope.get(USER_SCOPE_KEY)
    if user is None:  # the guard always sets it; without it nothing is readable
        raise PermissionError("airflow-drift: no authenticated Airflow user on this request")
    return user


def _auth_manager() -> Any:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


class AirflowAccess:
    """:class:`drift.dashboard.access.Access` asked of Airflow's auth manager, per DAG.

    Team names (Airflow's multi-team mode) are not looked up: a DAG's team
    is ``None`` to the auth manager, as for a deployment without teams.
    """

    def viewer(self, request: Request) -> Viewer | None:
        user = _user(request)
        scheme, _, _ = request.headers.get("authorization", "").partition(" ")
        # Airflow prefers a Bearer header over the cookie; only the cookie is sent
        # by a browser on its own, so only then do forms need the CSRF token.
        by_header = scheme.lower() == "bearer"
        return Viewer(
            str(user.get_name()), session=None if by_header else f"airflow:{user.get_id()}"
        )

    def readable(self, request: Request, monitors: Iterable[str]) -> set[str]:
        user = _user(request)
        ids = {dag_id(m): m for m in monitors}
        if not ids:
            return set()
        allowed = _auth_manager().filter_authorized_dag_ids(
            dag_ids=set(ids), user=user, method="GET"
        )
        return {ids[d] for d in allowed if d in ids}

    def may_edit(self, request: Request, monitor: str) -> bool:
        from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

        return bool(
            _auth_manager().is_authorized_dag(
                method="PUT", details=DagDetails(id=dag_id(monitor)), user=_user(request)
            )
        )


def csrf_secret() -> bytes:
    """The key of the dashboard's CSRF tokens: the same in every API server process.

    Derived from ``[api_auth] jwt_secret`` (which every component of a
    deployment shares), so a form rendered by one worker posts to another.
    """
    from airflow.configuration import conf

    jwt = conf.get("api_auth", "jwt_secret", fallback="") or ""
    if not jwt:
        import secrets

        return secrets.token_bytes(32)
    return hashlib.sha256(b"airflow-drift dashboard csrf\0" + jwt.encode()).digest()
