"""Real Airflow for the tests in this folder: its own home and SQLite metadata DB.

Airflow reads its configuration when it is first imported, so the
environment is set when this file is imported (collection time), before any
test imports Airflow; the metadata database is created once per session
with ``airflow db migrate``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
HOME = Path(tempfile.mkdtemp(prefix="drift-airflow-home-"))

os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }
)


@pytest.fixture(scope="session", autouse=True)
def airflow_db() -> Iterator[Path]:
    """A migrated Airflow metadata database; removed with its home at the end."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True, capture_output=True, env=os.environ.copy(), timeout=300,
    )  # fmt: skip
    yield HOME
    shutil.rmtree(HOME, ignore_errors=True)
