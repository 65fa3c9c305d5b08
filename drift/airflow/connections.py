"""Databases by Airflow connection: sources and the results store."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

from drift.config import SourceConfig
from drift.errors import SourceError
from drift.sources import open_source

__all__ = ["RESULTS_CONN_ID", "connection_url", "engine_for", "results_url"]

#: The connection holding the results database, when defined.
RESULTS_CONN_ID = "drift_results"

_DIALECTS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
}


def connection_url(conn_id: str) -> str:
    """A SQLAlchemy URL for the Airflow connection ``conn_id``.

    The connection's extra ``sqlalchemy_url`` wins; otherwise the URL is built
    from its type, host, port, login, password and schema (database).
    Postgres, MySQL/MariaDB, SQLite (host = file path) and DuckDB are known.

    Raises
    ------
    drift.errors.SourceError
        If the connection does not exist or its type is unknown.
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise SourceError(
            f"Airflow connection {conn_id!r} is not defined; create it (UI, CLI or "
            f"AIRFLOW_CONN_{conn_id.upper()}) with a database URL"
        ) from None
    extra = conn.extra_dejson
    if extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    driver = _DIALECTS.get((conn.conn_type or "").lower())
    if driver is None:
        raise SourceError(
            f"Airflow connection {conn_id!r} has type {conn.conn_type!r}; use postgres, mysql, "
            "sqlite or duckdb, or put a SQLAlchemy URL in its extra as sqlalchemy_url"
        )
    if driver in ("sqlite", "duckdb"):
        return f"{driver}:///{conn.host or ''}"
    url = sa.URL.create(
        driver,
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host or None,
        port=conn.port or None,
        database=conn.schema or None,
    )
    return url.render_as_string(hide_password=False)


def engine_for(source: SourceConfig) -> sa.Engine:
    """The engine of a monitor's source: its Airflow connection, else its URL."""
    if source.conn_id is not None:
        return sa.create_engine(connection_url(source.conn_id))
    return open_source(source)


def results_url() -> str:
    """The results database: connection ``drift_results``, else ``DRIFT_RESULTS_URL``,
    else SQLite under ``AIRFLOW_HOME``."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(RESULTS_CONN_ID)
    except AirflowNotFoundException:
        pass
    else:
        return connection_url(RESULTS_CONN_ID)
    if os.environ.get("DRIFT_RESULTS_URL"):
        return os.environ["DRIFT_RESULTS_URL"]
    home = Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow"))
    return f"sqlite:///{home / 'drift.db'}"
