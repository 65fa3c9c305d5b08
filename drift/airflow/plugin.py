"""The Airflow plugin: the drift dashboard in the API server, behind Airflow's login.

Plugin apps are public unless guarded, so every request to the mounted app
first passes Airflow's ``requires_authenticated()`` (the UI's ``_token``
cookie or a Bearer token; 401 otherwise). A browser asking for a page
(``Accept: text/html``) without a session is sent to Airflow's login
(``/api/v2/auth/login``, whatever the auth manager) with ``next`` pointing
back at the page; API clients keep the 401 JSON answer. The user the guard
authenticated is handed to the dashboard in the ASGI scope
(:data:`drift.airflow.access.USER_SCOPE_KEY`), and the dashboard shows
them only the monitors whose DAGs they may read (:class:`AirflowAccess`).
The dashboard is built on the
first request, not at import: this module is also imported by workers and
the dag-processor, where looking up the results connection at import time
would be wasted work or impossible.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote, urlencode

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, Request

from drift.airflow.access import USER_SCOPE_KEY, AirflowAccess, csrf_secret

__all__ = ["DriftPlugin", "create_plugin_app"]

#: Where the dashboard is mounted in Airflow's API server.
PREFIX = "/drift"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _guards() -> list[Any]:
    """Airflow's own authentication as FastAPI dependencies (the last one yields the user).

    Raises
    ------
    RuntimeError
        If this Airflow no longer has it (an internal module): serving drift
        results to anyone unauthenticated is not an option.
    """
    try:
        from airflow.api_fastapi.core_api.security import get_user, requires_authenticated
    except ImportError as exc:  # pragma: no cover - a future Airflow moved it
        raise RuntimeError(
            "airflow-drift: airflow.api_fastapi.core_api.security.requires_authenticated or "
            "get_user is gone from this Airflow, so the dashboard cannot be guarded and is "
            "not mounted"
        ) from exc
    return [Depends(requires_authenticated()), Depends(get_user)]


def _dashboard() -> ASGIApp:
    """``drift.dashboard.create_app`` over the results store of this deployment."""
    from drift.airflow.connections import results_url
    from drift.dashboard import create_app

    app: ASGIApp = create_app(results_url(), access=AirflowAccess(), secret=csrf_secret())
    return app


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class _Guarded:
    """An ASGI app that lets a request through only if Airflow's guards accept it.

    The guards run as FastAPI dependencies of a one-route probe app that sees
    the request's headers (token cookie, Authorization); its 401/403 answer
    is sent back as is. Guarding at this level covers every route, mount and
    static file of the dashboard, whatever it is built from. The user the
    guards resolved goes on to the dashboard in the scope. The dashboard is
    built on the first request.
    """

    def __init__(self, build: Callable[[], ASGIApp], guards: list[Any]) -> None:
        self._build = build
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()
        *checks, user = guards

        def allowed(request: Request, who: Any = user) -> None:
            request.scope[USER_SCOPE_KEY] = who

        self._probe = FastAPI()
        self._probe.add_api_route("/", allowed, dependencies=checks, status_code=204)

    def _inner(self) -> ASGIApp:
        with self._lock:
            if self._app is None:
                self._app = self._build()
            return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # no websockets; lifespan is not sent to mounted apps
            return
        answer: list[Message] = []

        async def keep(message: Message) -> None:
            answer.append(message)

        probe = {**scope, "method": "GET", "path": "/", "raw_path": b"/", "root_path": ""}
        probe["query_string"] = b""
        probe.pop(USER_SCOPE_KEY, None)  # only the guards say who this is
        await self._probe(probe, _no_body, keep)
        status = answer[0].get("status") if answer else None
        user = probe.get(USER_SCOPE_KEY)
        if answer and answer[0]["type"] == "http.response.start" and status == 204 and user:
            await self._inner()({**scope, USER_SCOPE_KEY: user}, receive, send)
            return
        if status == 401 and _wants_page(scope):
            await _redirect(send, _login_url(scope))
            return
        for message in answer:
            await send(message)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def _wants_page(scope: Scope) -> bool:
    """A browser navigating to a page (GET or HEAD asking for HTML), not an API client."""
    return scope.get("method") in ("GET", "HEAD") and "text/html" in _header(scope, b"accept")


def _login_url(scope: Scope) -> str:
    """Airflow's login route, with ``next`` back at the requested page (same origin).

    The plugin is mounted at ``/drift`` under Airflow's own root path, so
    Airflow's root is the mount's ``root_path`` without ``/drift``.
    """
    root = str(scope.get("root_path", "")).rstrip("/")
    airflow_root = root.removesuffix(PREFIX)
    here = quote(root + str(scope.get("path", "")).removeprefix(root) or "/")
    query = bytes(scope.get("query_string") or b"").decode("latin-1")
    scheme = scope.get("scheme", "http")
    host = _header(scope, b"host")
    back = f"{scheme}://{host}{here}" if host else here
    if query:
        back += f"?{query}"
    return f"{airflow_root}/api/v2/auth/login?{urlencode({'next': back})}"


async def _redirect(send: Send, location: str) -> None:
    headers = [(b"location", location.encode("latin-1")), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def create_plugin_app() -> Any:
    """The ASGI app mounted at ``/drift``: the dashboard behind Airflow's authentication.

    Returns
    -------
    ASGI application
        Every request needs an authenticated Airflow user (401 otherwise);
        the dashboard itself is built on first use.
    """
    return _Guarded(_dashboard, _guards())


class DriftPlugin(AirflowPlugin):
    """Mounts the drift dashboard at ``/drift`` and links it from the UI's navigation."""

    name = "drift"
    fastapi_apps = [  # noqa: RUF012 - AirflowPlugin declares these as plain lists
        {"app": create_plugin_app(), "url_prefix": PREFIX, "name": "Drift dashboard"}
    ]
    external_views = [  # noqa: RUF012
        {"name": "Drift", "href": "drift/", "url_route": "drift", "destination": "nav"}
    ]
