"""Shared fixtures: real database backends, each isolated per test.

Every database test takes the ``db_url`` fixture and so runs against SQLite,
DuckDB, PostgreSQL and MariaDB. PostgreSQL and MariaDB are found at the
addresses below (override with ``DRIFT_TEST_POSTGRES_URL`` /
``DRIFT_TEST_MARIADB_URL``). When ``DRIFT_REQUIRE_BACKENDS`` is set (``.ci/run``
sets it to ``all``), a backend that cannot be reached fails the test;
otherwise it is skipped with a message saying how to start it.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

# Helper modules of the suite (tests/stored.py) import by name: importlib mode puts no
# test folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

POSTGRES_URL = os.environ.get(
    "DRIFT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_URL = os.environ.get("DRIFT_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")

BACKENDS = ("sqlite", "duckdb", "postgresql", "mariadb")

HOW_TO_START = {
    "postgresql": (
        "start PostgreSQL on 127.0.0.1:5432 with trust auth and a database `test` "
        "(e.g. `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`), "
        "or point DRIFT_TEST_POSTGRES_URL at one"
    ),
    "mariadb": (
        "start MariaDB on 127.0.0.1:3306 with user root, empty password and a database `test` "
        "(e.g. `start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`), "
        "or point DRIFT_TEST_MARIADB_URL at one"
    ),
}


def _required(backend: str) -> bool:
    wanted = os.environ.get("DRIFT_REQUIRE_BACKENDS", "")
    names = {w.strip() for w in wanted.split(",") if w.strip()}
    return "all" in names or backend in names


def _unreachable(backend: str, exc: Exception) -> None:
    message = f"{backend} is not reachable ({type(exc).__name__}: {exc}); {HOW_TO_START[backend]}."
    if _required(backend):
        pytest.fail(f"required backend {message}", pytrace=False)
    pytest.skip(message)


def _unique(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def receiver() -> Iterator[Any]:
    """A real HTTP server taking Apprise ``json://`` posts on ``/hook``."""
    from pytest_httpserver import HTTPServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = HTTPServer(host="127.0.0.1", port=port)
    server.expect_request("/hook", method="POST").respond_with_data("ok")
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the backend a parametrized test runs against."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A SQLAlchemy URL to a fresh, empty database (or schema) on ``backend``.

    SQLite and DuckDB get a file under ``tmp_path``; PostgreSQL gets its own
    schema (selected through ``search_path``); MariaDB its own database. Each
    is dropped afterwards, so reruns and parallel runs never collide.
    """
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'drift.sqlite'}"
    elif backend == "duckdb":
        yield f"duckdb:///{tmp_path / 'drift.duckdb'}"
    elif backend == "postgresql":
        yield from _postgres_schema()
    elif backend == "mariadb":
        yield from _mariadb_database()
    else:  # pragma: no cover - the params above are the whole list
        raise AssertionError(backend)


@pytest.fixture
def store(db_url: str) -> Iterator[Any]:
    """A migrated results store on ``db_url`` (every backend), closed after the test."""
    from drift.store import ResultsStore, upgrade

    upgrade(db_url)
    results = ResultsStore(db_url)
    yield results
    results.close()


def _postgres_schema() -> Iterator[str]:
    schema = _unique()
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        _unreachable("postgresql", exc)
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _mariadb_database() -> Iterator[str]:
    name = _unique()
    admin = sa.create_engine(MARIADB_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{name}`"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        _unreachable("mariadb", exc)
    url = sa.make_url(MARIADB_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


DEMO_MONITOR = Path(__file__).resolve().parents[1] / "dags" / "monitors" / "demo_events.yaml"


def fill_demo_results(results_url: str, source_path: Path) -> None:
    """Fill ``results_url`` the way ``make demo`` does, without Airflow.

    The demo source is written to ``source_path`` and the demo monitor
    (``dags/monitors/demo_events.yaml``) is run by the pipeline for each
    daily window the demo DAG runs (2024-05-15 to 2024-05-28), recording its
    alerts; nobody is notified.
    """
    from datetime import timedelta

    from drift.config import load_monitor
    from drift.run import backfill
    from drift.sources.demo_data import DEMO_START, make_demo_source
    from drift.store import ResultsStore, upgrade

    source_url = f"sqlite:///{source_path}"
    make_demo_source(source_url)
    os.environ["DRIFT_DEMO_SOURCE_URL"] = source_url
    upgrade(results_url)
    store = ResultsStore(results_url)
    try:
        start = DEMO_START + timedelta(days=14)
        backfill(load_monitor(DEMO_MONITOR), start, start + timedelta(days=14), store=store)
    finally:
        store.close()


@pytest.fixture(scope="session")
def fill_demo() -> Any:
    """:func:`fill_demo_results`, for tests that fill a store of their own."""
    return fill_demo_results


@pytest.fixture(scope="session")
def demo_results(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite results store filled by the demo monitor (see :func:`fill_demo_results`)."""
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'drift.db'}"
    fill_demo_results(url, folder / "source.db")
    return url


HOW_TO_START["spark"] = (
    "install the dev extra (pyspark, pyhive) and Java 17; the suite starts the Spark "
    "Thrift server itself (tests/spark_server.py)"
)


@pytest.fixture(scope="session")
def spark_server() -> Iterator[Any]:
    """The session's Spark Thrift server (started once, stopped by its process group)."""
    import spark_server as spark

    try:
        server = spark.start()
    except Exception as exc:
        _unreachable("spark", exc)
    try:
        yield server
    finally:
        server.stop()
