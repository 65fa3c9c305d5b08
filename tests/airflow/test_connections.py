"""Sources and the results database through Airflow connections (AIRFLOW_CONN_* here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from drift.airflow.connections import connection_url, engine_for, results_url
from drift.config import SourceConfig
from drift.errors import SourceError
from drift.sources.demo_data import make_demo_source

# tests/airflow/conftest.py points the connection drift_test_source at this file.
SOURCE_FILE = "conn_source.db"


def _json_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: object) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


def test_a_sqlite_connection_gives_its_database_file(airflow_db: Path) -> None:
    assert connection_url("drift_test_source") == f"sqlite:///{airflow_db / SOURCE_FILE}"


def test_a_source_by_conn_id_reads_that_database(airflow_db: Path) -> None:
    url = f"sqlite:///{airflow_db / SOURCE_FILE}"
    rows = make_demo_source(url, days=2, shift_day=1, rows_per_day=50)
    engine = engine_for(SourceConfig(conn_id="drift_test_source"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one() == rows
    engine.dispose()


def test_a_postgres_connection_becomes_a_psycopg_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE", "postgres://ann:p%40ss@db.internal:5433/sales?sslmode=require"
    )
    assert connection_url("warehouse") == (
        "postgresql+psycopg://ann:p%40ss@db.internal:5433/sales?sslmode=require"
    )


def test_a_sqlalchemy_url_in_the_extra_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    _json_conn(monkeypatch, "lake", conn_type="generic", extra={"sqlalchemy_url": "duckdb:///l.db"})
    assert connection_url("lake") == "duckdb:///l.db"


def test_an_undefined_connection_says_how_to_define_it() -> None:
    with pytest.raises(SourceError, match="AIRFLOW_CONN_NOT_THERE"):
        engine_for(SourceConfig(conn_id="not_there"))


def test_a_connection_whose_hook_is_not_sql_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _json_conn(monkeypatch, "mail", conn_type="smtp", host="localhost")
    with pytest.raises(SourceError, match="SmtpHook is not a SQL hook"):
        engine_for(SourceConfig(conn_id="mail"))


def test_results_go_to_the_connection_then_the_variable_then_airflow_home(
    airflow_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert results_url() == f"sqlite:///{airflow_db / 'drift.db'}"
    monkeypatch.setenv("DRIFT_RESULTS_URL", "sqlite:///from-variable.db")
    assert results_url() == "sqlite:///from-variable.db"
    monkeypatch.setenv("AIRFLOW_CONN_DRIFT_RESULTS", f"sqlite:///{tmp_path / 'results.db'}")
    assert results_url() == f"sqlite:///{tmp_path / 'results.db'}"
    monkeypatch.setenv("AIRFLOW__DRIFT__RESULTS_CONN_ID", "elsewhere")
    assert results_url() == "sqlite:///from-variable.db"
