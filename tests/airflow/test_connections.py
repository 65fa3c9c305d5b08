"""Sources and the results database through Airflow connections (AIRFLOW_CONN_* here)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from spark_server import load_parquet

from drift.airflow.connections import connection_url, engine_for, results_url
from drift.config import SourceConfig, parse_monitor
from drift.errors import SourceError
from drift.run import measure_window
from drift.sources import open_source
from drift.sources.demo_data import make_demo_source
from drift.store import ResultsStore, upgrade

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


# Spark / Hive / Databricks (issue 17): the URL each Airflow connection type gives.

TOKEN = "dapi-s3cr3t/token"
WAREHOUSE = "/sql/1.0/warehouses/abc123"


def _refused(conn_id: str, match: str, *, secret: str = TOKEN) -> SourceError:
    with pytest.raises(SourceError, match=match) as caught:
        connection_url(conn_id)
    assert secret not in str(caught.value)
    return caught.value


def test_a_hiveserver2_connection_becomes_a_pyhive_url(monkeypatch: pytest.MonkeyPatch) -> None:
    # The password is left out: PyHive takes one with LDAP or CUSTOM only.
    _json_conn(
        monkeypatch,
        "thrift",
        conn_type="hiveserver2",
        host="thrift.internal",
        port=10001,
        login="ann",
        password="unused",
        schema="sales",
        extra={"auth_mechanism": "nosasl"},
    )
    assert connection_url("thrift") == "hive://ann@thrift.internal:10001/sales?auth=NOSASL"


def test_a_bare_hiveserver2_connection_uses_pyhive_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No auth in the extra: none in the URL, so PyHive's own default (NONE) applies.
    monkeypatch.setenv("AIRFLOW_CONN_THRIFT", "hiveserver2://thrift.internal")
    assert connection_url("thrift") == "hive://thrift.internal:10000/default"


def test_ldap_and_kerberos_give_what_pyhive_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    _json_conn(
        monkeypatch,
        "ldap",
        conn_type="hiveserver2",
        host="h",
        login="ann",
        password="p@ss/1",
        extra={"auth": "LDAP"},
    )
    url = connection_url("ldap")
    assert url == "hive://ann:p%40ss%2F1@h:10000/default?auth=LDAP"
    assert sa.make_url(url).password == "p@ss/1"
    _json_conn(
        monkeypatch,
        "kerb",
        conn_type="hiveserver2",
        host="h",
        password="ignored",
        extra={"auth_mechanism": "KERBEROS"},
    )
    assert (
        connection_url("kerb") == "hive://h:10000/default?auth=KERBEROS&kerberos_service_name=hive"
    )


def test_ldap_without_a_password_or_an_unknown_auth_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _json_conn(monkeypatch, "ldap", conn_type="hiveserver2", host="h", extra={"auth": "CUSTOM"})
    _refused("ldap", "'ldap' \\(hiveserver2\\) has auth CUSTOM but no password")
    _json_conn(
        monkeypatch,
        "odd",
        conn_type="hiveserver2",
        host="h",
        password=TOKEN,
        extra={"auth": "PLAIN"},
    )
    _refused("odd", "auth 'PLAIN' .* use one of NONE, NOSASL, LDAP, KERBEROS, CUSTOM")


def test_spark_connections_with_a_host_and_port_go_to_the_thrift_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for kind in ("spark_sql", "spark"):
        _json_conn(
            monkeypatch,
            "spk",
            conn_type=kind,
            host="sts.internal",
            port=10000,
            schema="lake",
            extra={"auth": "NOSASL", "deploy-mode": "cluster"},
        )
        assert connection_url("spk") == "hive://sts.internal:10000/lake?auth=NOSASL"


def test_a_spark_submit_connection_without_a_thrift_server_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _json_conn(monkeypatch, "submit", conn_type="spark", host="yarn")
    _refused("submit", "'submit' \\(spark\\) has host 'yarn', a Spark master")
    _json_conn(monkeypatch, "submit", conn_type="spark", host="spark://master", port=7077)
    _refused("submit", "has host 'spark://master', a Spark master")
    _json_conn(monkeypatch, "submit", conn_type="spark_sql", host="sts.internal")
    _refused("submit", "'submit' \\(spark_sql\\) has no port; .*usually 10000")
    _json_conn(monkeypatch, "submit", conn_type="hiveserver2", password=TOKEN)
    _refused("submit", "'submit' \\(hiveserver2\\) has no host")


def test_a_databricks_connection_becomes_a_databricks_sqlalchemy_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _json_conn(
        monkeypatch,
        "dbx",
        conn_type="databricks",
        host="https://dbc-1234.cloud.databricks.com/",
        password=TOKEN,
        extra={"http_path": WAREHOUSE, "catalog": "main", "schema": "sales"},
    )
    url = connection_url("dbx")
    assert url == (
        "databricks://token:dapi-s3cr3t%2Ftoken@dbc-1234.cloud.databricks.com"
        "?catalog=main&http_path=%2Fsql%2F1.0%2Fwarehouses%2Fabc123&schema=sales"
    )
    parsed = sa.make_url(url)
    assert (parsed.password, parsed.query["http_path"]) == (TOKEN, WAREHOUSE)


def test_a_databricks_token_may_be_in_the_extra_and_the_schema_a_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _json_conn(
        monkeypatch,
        "dbx",
        conn_type="databricks",
        host="adb-1.azuredatabricks.net",
        login="token",
        schema="sales",
        extra={"token": TOKEN, "http_path": WAREHOUSE},
    )
    parsed = sa.make_url(connection_url("dbx"))
    assert (parsed.username, parsed.password, parsed.host) == (
        "token",
        TOKEN,
        "adb-1.azuredatabricks.net",
    )
    assert dict(parsed.query) == {"http_path": WAREHOUSE, "schema": "sales"}


def test_a_databricks_connection_names_the_field_it_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    _json_conn(monkeypatch, "dbx", conn_type="databricks", host="h", password=TOKEN)
    _refused("dbx", "'dbx' \\(databricks\\) has no http_path in its extra")
    _json_conn(
        monkeypatch, "dbx", conn_type="databricks", password=TOKEN, extra={"http_path": WAREHOUSE}
    )
    _refused("dbx", "'dbx' \\(databricks\\) has no host")
    _json_conn(monkeypatch, "dbx", conn_type="databricks", host="h", extra={"http_path": WAREHOUSE})
    _refused("dbx", "has no personal access token; put it in the password field")
    _json_conn(
        monkeypatch,
        "dbx",
        conn_type="databricks",
        host="h",
        login="ann@example.com",
        password=TOKEN,
        extra={"http_path": WAREHOUSE},
    )
    _refused("dbx", "has a login; Databricks SQL is read with a personal access token")


def test_a_databricks_source_without_its_dialect_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # databricks-sqlalchemy is not installed here (no workspace to test it against).
    _json_conn(
        monkeypatch,
        "dbx",
        conn_type="databricks",
        host="h",
        password=TOKEN,
        extra={"http_path": WAREHOUSE},
    )
    with pytest.raises(SourceError, match="pip install 'databricks-sqlalchemy'") as caught:
        engine_for(SourceConfig(conn_id="dbx"))
    assert TOKEN not in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


@pytest.mark.spark
@pytest.mark.slow
def test_a_monitor_reads_spark_through_a_hiveserver2_connection(
    spark_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    day0 = datetime(2024, 5, 1, tzinfo=UTC)
    folder = tmp_path / "conn_events"
    folder.mkdir()
    # Day 0 the reference, day 1 the live window: amount moves from ~10 to ~30.
    ts = [day0 + timedelta(minutes=3 * i) for i in range(2 * 480)]
    amounts = [
        float(10 + (20 if t >= day0 + timedelta(days=1) else 0) + i % 7) for i, t in enumerate(ts)
    ]
    pq.write_table(
        pa.table(
            {
                "ts": pa.array([t.replace(tzinfo=None) for t in ts], pa.timestamp("us")),
                "amount": pa.array(amounts, pa.float64()),
            }
        ),
        folder / "part-0.parquet",
    )
    admin = spark_server.engine()
    load_parquet(admin, "conn_events", folder)
    admin.dispose()
    port = sa.make_url(spark_server.url).port
    _json_conn(
        monkeypatch,
        "spark_test",
        conn_type="hiveserver2",
        host="127.0.0.1",
        port=port,
        schema="default",
        extra={"auth": "NOSASL"},
    )
    assert connection_url("spark_test") == f"hive://127.0.0.1:{port}/default?auth=NOSASL"

    monitor = parse_monitor(
        {
            "name": "spark_by_conn",
            "source": {"conn_id": "spark_test"},
            "table": "conn_events",
            "timestamp": "ts",
            "window": "1d",
            "reference": {"previous_windows": 1},
            "features": [{"name": "amount", "kind": "numeric", "bins": 5}],
        }
    )
    engine = open_source(monitor.source, engine_factory=engine_for)
    assert engine.dialect.name == "hive"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM conn_events")).scalar_one() == len(ts)
    engine.dispose()

    results = f"sqlite:///{tmp_path / 'results.db'}"
    upgrade(results)
    store = ResultsStore(results)
    try:
        result = measure_window(
            monitor,
            day0 + timedelta(days=1),
            day0 + timedelta(days=2),
            store=store,
            engine_factory=engine_for,
        )
    finally:
        store.close()
    assert result.status == "ok", result.error
    (score,) = result.scores
    assert (score.reference.total, score.current.total) == (480, 480)
    assert result.drifted == ("amount",)
