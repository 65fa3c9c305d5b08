"""Databases by Airflow connection: sources and the results store.

Everything here goes through Airflow's connections (``airflow.sdk.BaseHook``,
so secrets backends and ``AIRFLOW_CONN_*`` work) and never through Airflow's
own metadata database, which task processes may not touch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from drift.config import SourceConfig
from drift.errors import SourceError
from drift.sources import open_source
from drift.store import ResultsStore, upgrade

__all__ = [
    "RESULTS_CONN_ID",
    "connection_url",
    "engine_for",
    "open_results_store",
    "results_conn_id",
    "results_url",
]

#: The default of ``[drift] results_conn_id``.
RESULTS_CONN_ID = "drift_results"

# Connection types whose SQLAlchemy dialect and driver this package ships (extras
# postgres, mysql, duckdb), so they are built here rather than by a provider hook
# that may want another driver.
_DIALECTS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
}
# Connection extras passed on to the driver as URL query options; anything else
# needs a full URL in the extra ``sqlalchemy_url``.
_DRIVER_OPTIONS = frozenset(
    {
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "connect_timeout",
        "application_name",
        "charset",
    }
)


def _connection(conn_id: str) -> Any:
    """The Airflow connection ``conn_id``, or ``None`` when it is not defined."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def _missing(conn_id: str) -> SourceError:
    return SourceError(
        f"Airflow connection {conn_id!r} is not defined; create it (UI, `airflow connections "
        f"add`, or the variable AIRFLOW_CONN_{conn_id.upper()}) with a database URL"
    )


def _url_of(conn: Any) -> str | None:
    """The SQLAlchemy URL of a connection, when its extra or its type gives one."""
    extra = conn.extra_dejson
    for key in ("sqlalchemy_url", "url"):
        if extra.get(key):
            return str(extra[key])
    driver = _DIALECTS.get((conn.conn_type or "").lower())
    if driver is None:
        return None
    if driver in ("sqlite", "duckdb"):
        # The file is the host field (Airflow's sqlite connections, the UI) or, for a
        # URI such as sqlite:////data/source.db, the schema.
        path = conn.host or conn.schema
        if not path:
            raise SourceError(
                f"Airflow connection {conn.conn_id!r} ({driver}) names no database file; "
                "put its path in the host field"
            )
        return f"{driver}:///{path}"
    return sa.URL.create(
        driver,
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host or None,
        port=conn.port or None,
        database=conn.schema or None,
        query={k: str(v) for k, v in extra.items() if k in _DRIVER_OPTIONS},
    ).render_as_string(hide_password=False)


def connection_url(conn_id: str) -> str:
    """A SQLAlchemy URL for the Airflow connection ``conn_id``.

    Parameters
    ----------
    conn_id : str
        The connection id.

    Returns
    -------
    str
        The connection extra's ``sqlalchemy_url`` (or ``url``) when given;
        otherwise built from the type, host, port, login, password, schema
        (database) and SSL extras for ``postgres``, ``mysql``/``mariadb``,
        ``sqlite`` and ``duckdb`` (host, or the path of the URI, = database
        file).

    Raises
    ------
    drift.errors.SourceError
        If the connection is not defined or its type gives no URL.
    """
    conn = _connection(conn_id)
    if conn is None:
        raise _missing(conn_id)
    url = _url_of(conn)
    if url is None:
        raise SourceError(
            f"Airflow connection {conn_id!r} has type {conn.conn_type!r}; use postgres, mysql, "
            "sqlite or duckdb, a type whose provider hook is a DbApiHook, or put a SQLAlchemy "
            "URL in its extra as sqlalchemy_url"
        )
    return url


def _engine_from_connection(conn_id: str) -> sa.Engine:
    conn = _connection(conn_id)
    if conn is None:
        raise _missing(conn_id)
    url = _url_of(conn)
    if url is not None:
        return sa.create_engine(url)
    # Any other database: its provider's DbApiHook knows how to reach it.
    from airflow.providers.common.sql.hooks.sql import DbApiHook

    try:
        hook = conn.get_hook()
    except Exception as exc:  # Airflow raises a bare AirflowException for unknown types
        raise SourceError(f"Airflow connection {conn_id!r}: no hook for its type ({exc})") from exc
    if not isinstance(hook, DbApiHook):
        raise SourceError(
            f"Airflow connection {conn_id!r} has type {conn.conn_type!r}, whose hook "
            f"{type(hook).__name__} is not a SQL hook; put a SQLAlchemy URL in its extra "
            "as sqlalchemy_url"
        )
    engine: sa.Engine = hook.get_sqlalchemy_engine()
    return engine


def engine_for(source: SourceConfig) -> sa.Engine:
    """The engine of a monitor's source: its Airflow connection, else its URL.

    Parameters
    ----------
    source : SourceConfig
        The monitor's ``source`` (``conn_id``, ``url`` or ``url_env``).

    Returns
    -------
    sqlalchemy.Engine

    Raises
    ------
    drift.errors.SourceError
        If the connection is not defined or gives no database.
    """
    if source.conn_id is not None:
        return _engine_from_connection(source.conn_id)
    return open_source(source)


def results_conn_id() -> str:
    """The connection id of the results database: ``[drift] results_conn_id``."""
    from airflow.sdk.configuration import conf

    value = conf.get("drift", "results_conn_id", fallback=RESULTS_CONN_ID)
    return str(value or RESULTS_CONN_ID)


def results_url() -> str:
    """The results database.

    Returns
    -------
    str
        The connection ``[drift] results_conn_id`` (default ``drift_results``)
        when defined, else ``$DRIFT_RESULTS_URL``, else
        ``sqlite:///$AIRFLOW_HOME/drift.db``.
    """
    conn_id = results_conn_id()
    if _connection(conn_id) is not None:
        return connection_url(conn_id)
    if os.environ.get("DRIFT_RESULTS_URL"):
        return os.environ["DRIFT_RESULTS_URL"]
    home = Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow"))
    return f"sqlite:///{home / 'drift.db'}"


@contextmanager
def open_results_store(*, migrate: bool = False) -> Iterator[ResultsStore]:
    """The results store of :func:`results_url`, closed on exit.

    Parameters
    ----------
    migrate : bool, optional
        Bring the results tables up to date first (idempotent).

    Yields
    ------
    drift.store.ResultsStore
    """
    url = results_url()
    if migrate:
        upgrade(url)
    store = ResultsStore(url)
    try:
        yield store
    finally:
        store.close()
