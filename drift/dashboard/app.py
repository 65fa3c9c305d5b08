"""The dashboard application: JSON API, HTML pages, static files and error pages."""

from __future__ import annotations

import html
import logging
import secrets
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware

from drift.dashboard import actions, api, api_actions, pages
from drift.dashboard.access import Access, ReadEverything
from drift.dashboard.data import BadRangeError, NotFoundError
from drift.errors import ActionError, StoreError
from drift.store import ResultsStore

__all__ = ["create_app", "plotly_js"]

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")


def plotly_js() -> Path:
    """The plotly.js bundle shipped inside the ``plotly`` Python package."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _wants_json(request: Request) -> bool:
    root = request.scope.get("root_path", "")
    path = request.url.path.removeprefix(root)
    return path.startswith("/api/") or path == "/api"


def _problem(request: Request, status: int, message: str) -> Response:
    """An error as JSON (``{"detail": ...}``) for the API, as a small escaped page otherwise."""
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    home = request.scope.get("root_path", "") + "/"
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{status} · drift</title></head><body style='font-family:sans-serif'>"
        f"<h1>{status}</h1><p id='error'>{html.escape(message)}</p>"
        f"<p><a href='{html.escape(home)}'>All monitors</a></p></body></html>"
    )
    return HTMLResponse(body, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def create_app(
    results: str | sa.URL | sa.Engine | ResultsStore,
    *,
    title: str = "airflow-drift",
    access: Access | None = None,
    secret: bytes | None = None,
) -> FastAPI:
    """The dashboard over a results store, as an ASGI application.

    Parameters
    ----------
    results : str, sqlalchemy.URL, sqlalchemy.Engine or ResultsStore
        The results database (at the latest migration). The app writes to it
        only the actions ``access`` allows.
    title : str, optional
        Shown in the OpenAPI schema.
    access : Access, optional
        Who may read and change which monitors (see :mod:`drift.dashboard.access`).
        The default, :class:`~drift.dashboard.access.ReadEverything`, shows
        every monitor and allows no action.
    secret : bytes, optional
        Key of the forms' CSRF tokens; give the same one to every process
        serving the app. Default: random, for this process only.

    Returns
    -------
    fastapi.FastAPI
        Pages at ``/``, ``/monitors/{name}`` and ``/runs/{id}``, the on-call
        confirm forms at ``/monitors/{name}/confirm/{kind}`` and, with a
        :class:`~drift.dashboard.access.StandaloneToken`, its token form at
        ``/sign-in``; the JSON API under ``/api`` (its OpenAPI schema at
        ``/openapi.json``);
        static files, plotly.js included, under ``/static``. Mount it under
        any prefix: links follow the ``root_path``.

    Examples
    --------
    >>> import uvicorn  # doctest: +SKIP
    >>> uvicorn.run(create_app("sqlite:///drift.db"), host="127.0.0.1", port=8050)  # doctest: +SKIP
    """
    store = results if isinstance(results, ResultsStore) else ResultsStore(results)
    app = FastAPI(
        title=title,
        summary="Historical drift of airflow-drift monitors, and the on-call actions on them",
        # FastAPI's /docs and /redoc pages load their scripts from a CDN, and
        # nothing here may leave the host: the schema is at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    app.state.access = access if access is not None else ReadEverything()
    app.state.secret = secret if secret is not None else secrets.token_bytes(32)
    app.add_middleware(GZipMiddleware, minimum_size=2048)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return _problem(request, 404, str(exc))

    @app.exception_handler(BadRangeError)
    async def bad_range(request: Request, exc: BadRangeError) -> Response:
        return _problem(request, 422, str(exc))

    @app.exception_handler(ActionError)
    async def refused(request: Request, exc: ActionError) -> Response:
        return _problem(request, 422, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return _problem(request, 422, _validation_message(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404 and exc.detail == "Not Found":
            return _problem(request, 404, f"Not Found: nothing at {request.url.path}")
        return _problem(request, exc.status_code, str(exc.detail))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        log.error("results store: %s", exc)
        return _problem(request, 503, f"results store unavailable: {exc}")

    @app.exception_handler(sa.exc.SQLAlchemyError)
    async def database_error(request: Request, exc: sa.exc.SQLAlchemyError) -> Response:
        log.exception("results store query failed")
        return _problem(request, 503, "results store query failed; see the server log")

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_bundle() -> FileResponse:
        return FileResponse(
            plotly_js(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        # Pages link the SVG icon; this answers browsers that ask the root anyway.
        return FileResponse(
            STATIC / "favicon.svg",
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api.router)
    app.include_router(api_actions.router)
    app.include_router(pages.router)
    app.include_router(actions.router)
    return app
