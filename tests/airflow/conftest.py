"""Real Airflow for the tests in this folder: its own home and SQLite metadata DB.

Airflow reads its configuration once, when it is first imported, so the
environment must be in place before that. Nothing outside ``drift.airflow``
imports Airflow (``test_layering.py`` checks), and pytest
imports this conftest before collecting any test module in this folder, so
the environment is set in ``pytest_configure`` below, which pytest calls as
soon as it loads this file. If Airflow was imported earlier anyway (a new
plugin, a stray import), the session stops with a clear error instead of
quietly using ``~/airflow``.

The metadata database is created once per session with ``airflow db
migrate``, in a subprocess so this process only ever sees a finished
database, and cached between sessions. The DAGs folder is the repository's
real ``dags/``: ``dag.test()`` syncs the folder's DAG bundle to the database
itself (Airflow 3.3), so a DAG must come from there, not from a module of
its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
HOME = Path(tempfile.mkdtemp(prefix="drift-airflow-home-"))


def pytest_configure(config: pytest.Config) -> None:
    if "airflow" in sys.modules:
        raise pytest.UsageError(
            "airflow was imported before tests/airflow/conftest.py could configure it; "
            "find the import (only drift.airflow may import airflow) or run tests/airflow alone"
        )
    os.environ.update(
        {
            "AIRFLOW_HOME": str(HOME),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__API_AUTH__JWT_SECRET": "drift-tests-" + "0" * 64,
            # A source by connection id, for test_connections.py.
            "AIRFLOW_CONN_DRIFT_TEST_SOURCE": f"sqlite:///{HOME / 'conn_source.db'}",
        }
    )
    # The results database comes from each test; never from the developer's shell.
    os.environ.pop("DRIFT_RESULTS_URL", None)
    os.environ.pop("AIRFLOW_CONN_DRIFT_RESULTS", None)


def _migrated_db(cache: Path | None) -> None:
    """Create the metadata DB, or copy the one migrated by an earlier session."""
    target = HOME / "airflow.db"
    cached = cache / f"airflow-{version('apache-airflow')}.db" if cache else None
    if cached is not None and cached.is_file():
        shutil.copyfile(cached, target)
        return
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True, capture_output=True, env=os.environ.copy(), timeout=300,
    )  # fmt: skip
    if cached is not None:
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(target, partial)
        partial.replace(cached)


@pytest.fixture(scope="session", autouse=True)
def airflow_db(pytestconfig: pytest.Config) -> Iterator[Path]:
    """A migrated Airflow metadata database; yields AIRFLOW_HOME, removed at the end.

    Migrating takes seconds, so the result is kept in pytest's cache (per Airflow
    version) and copied by later sessions; ``pytest --cache-clear`` starts over.
    """
    store = getattr(pytestconfig, "cache", None)  # absent with -p no:cacheprovider
    cache = store.mkdir("drift-airflow-db") if store is not None else None
    _migrated_db(cache)
    yield HOME
    shutil.rmtree(HOME, ignore_errors=True)
