"""Databases by Airflow connection: sources and the results store.

Everything here goes through Airflow's connections (``airflow.sdk.BaseHook``,
so secrets backends and ``AIRFLOW_CONN_*`` work) and never through Airflow's
own metadata database, which task processes may not touch.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from drift.config import SourceConfig
from drift.errors import SourceError
from drift.sources import open_source
from drift.sql.secrets import mask_text
from drift.store import ResultsStore, upgrade

__all__ = [
    "HIVE_AUTH",
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


# The Spark Thrift server speaks HiveServer2: Airflow's hive provider calls it
# ``hiveserver2``; the Spark provider's ``spark_sql``/``spark`` (spark-submit
# connections) are read through it only when they name a host and a port.
_THRIFT_TYPES = frozenset({"hiveserver2", "spark_sql", "spark"})
#: ``hive.server2.authentication`` values PyHive speaks (its default is NONE).
HIVE_AUTH = ("NONE", "NOSASL", "LDAP", "KERBEROS", "CUSTOM")
_HIVE_PORT = 10000


def _needs(conn: Any, what: str, fix: str) -> SourceError:
    return SourceError(f"Airflow connection {conn.conn_id!r} ({conn.conn_type}) {what}; {fix}")


def _hive_url(conn: Any) -> str:
    """``hive://login@host:port/schema?auth=...`` for the Spark Thrift server (PyHive)."""
    kind = conn.conn_type.lower()
    extra = conn.extra_dejson
    host = (conn.host or "").strip()
    if not host:
        raise _needs(
            conn, "has no host", "put the Spark Thrift server's host name in its host field"
        )
    if "://" in host or host in ("yarn", "local") or host.startswith("local["):
        raise _needs(
            conn,
            f"has host {host!r}, a Spark master rather than a Thrift server",
            "put the Spark Thrift (HiveServer2) server's host name in its host field",
        )
    port = conn.port
    if port is None and kind != "hiveserver2":
        raise _needs(
            conn,
            "has no port",
            "a spark-submit connection is read through the Spark Thrift server only when its "
            f"port field gives the server's port (usually {_HIVE_PORT}); or use a hiveserver2 "
            "connection",
        )
    auth = extra.get("auth_mechanism") or extra.get("auth")
    query: dict[str, str] = {}
    if auth is not None:
        auth = str(auth).upper()
        if auth not in HIVE_AUTH:
            raise _needs(
                conn,
                f"has auth {auth!r} in its extra",
                f"use one of {', '.join(HIVE_AUTH)} (the server's hive.server2.authentication)",
            )
        query["auth"] = auth
    # PyHive takes a password in LDAP and CUSTOM modes only (and refuses one otherwise).
    password = None
    if auth in ("LDAP", "CUSTOM"):
        if not conn.password:
            raise _needs(conn, f"has auth {auth} but no password", "put it in the password field")
        password = conn.password
    if auth == "KERBEROS":
        query["kerberos_service_name"] = str(extra.get("kerberos_service_name") or "hive")
    return sa.URL.create(
        "hive",
        username=conn.login or None,
        password=password,
        host=host,
        port=port or _HIVE_PORT,
        database=conn.schema or "default",
        query=query,
    ).render_as_string(hide_password=False)


def _databricks_url(conn: Any) -> str:
    """``databricks://token:<token>@host?http_path=...`` (the databricks-sqlalchemy dialect)."""
    extra = conn.extra_dejson
    host = re.sub(r"^https?://", "", (conn.host or "").strip()).rstrip("/")
    if not host:
        raise _needs(
            conn,
            "has no host",
            "put the workspace host name (e.g. dbc-1234.cloud.databricks.com) in its host field",
        )
    http_path = extra.get("http_path")
    if not http_path:
        raise _needs(
            conn,
            "has no http_path in its extra",
            "copy the SQL warehouse's or cluster's HTTP path (e.g. /sql/1.0/warehouses/abc) "
            "into the extra as http_path (sql_endpoint_name is not resolved here)",
        )
    if conn.login and conn.login != "token":
        raise _needs(
            conn,
            "has a login",
            "Databricks SQL is read with a personal access token: leave login empty (or "
            "'token') and put the token in the password field",
        )
    token = conn.password or extra.get("token")
    if not token:
        raise _needs(
            conn,
            "has no personal access token",
            "put it in the password field (or the extra as token)",
        )
    query = {"http_path": str(http_path)}
    for key, value in (("catalog", extra.get("catalog")), ("schema", extra.get("schema"))):
        if value:
            query[key] = str(value)
    if "schema" not in query and conn.schema:
        query["schema"] = conn.schema
    return sa.URL.create(
        "databricks",
        username="token",
        password=str(token),
        host=host,
        port=conn.port or None,
        query=query,
    ).render_as_string(hide_password=False)


def _url_of(conn: Any) -> str | None:
    """The SQLAlchemy URL of a connection, when its extra or its type gives one."""
    extra = conn.extra_dejson
    for key in ("sqlalchemy_url", "url"):
        if extra.get(key):
            return str(extra[key])
    kind = (conn.conn_type or "").lower()
    if kind in _THRIFT_TYPES:
        return _hive_url(conn)
    if kind == "databricks":
        return _databricks_url(conn)
    driver = _DIALECTS.get(kind)
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
        file); ``hive://login@host:port/schema?auth=...`` (PyHive, the Spark
        Thrift server) for ``hiveserver2`` and for ``spark_sql``/``spark``
        with a host and port, the extra's ``auth_mechanism`` or ``auth`` as
        ``auth`` (one of :data:`HIVE_AUTH`; none given is PyHive's NONE) and
        the password only with LDAP or CUSTOM; and
        ``databricks://token:<password>@host?http_path=...&catalog=...&schema=...``
        (the databricks-sqlalchemy dialect) for ``databricks``, from the
        extra's ``http_path``, ``catalog`` and ``schema`` (or the schema
        field), the token being the password (or the extra's ``token``).

    Raises
    ------
    drift.errors.SourceError
        If the connection is not defined, its type gives no URL, or a field
        its type needs (host, port, http_path, token, password) is missing;
        the message names the field and never holds the password.
    """
    conn = _connection(conn_id)
    if conn is None:
        raise _missing(conn_id)
    url = _url_of(conn)
    if url is None:
        raise SourceError(
            f"Airflow connection {conn_id!r} has type {conn.conn_type!r}; use postgres, mysql, "
            "sqlite, duckdb, hiveserver2, spark_sql, spark or databricks, a type whose provider "
            "hook is a DbApiHook, or put a SQLAlchemy URL in its extra as sqlalchemy_url"
        )
    return url


def _engine_from_connection(conn_id: str) -> sa.Engine:
    conn = _connection(conn_id)
    if conn is None:
        raise _missing(conn_id)
    url = _url_of(conn)
    if url is not None:
        try:
            return sa.create_engine(url)
        except sa.exc.NoSuchModuleError as exc:
            extra = {"hive": "airflow-drift[spark]", "databricks": "databricks-sqlalchemy"}
            package = extra.get(sa.make_url(url).get_backend_name())
            hint = f"; pip install {package!r}" if package else ""
            raise SourceError(
                f"Airflow connection {conn_id!r}: no SQLAlchemy dialect installed for it "
                f"({mask_text(str(exc))}){hint}"
            ) from None
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise SourceError(
                f"Airflow connection {conn_id!r} gives no usable SQLAlchemy URL: "
                f"{mask_text(str(exc))}"
            ) from None
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
