"""The DAG folder, timetables, provider and plugin, in real Airflow."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pendulum

from drift.airflow import build_dags
from drift.config import parse_monitor

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_dagbag_loads_every_file_without_import_errors() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert "drift_demo_events" in bag.dag_ids
    dag = bag.dags.get("drift_demo_events")
    assert [t.task_id for t in dag.topological_sort()][:2] == ["baseline", "measure"]
    assert {t.task_id for t in dag.tasks} == {"baseline", "measure", "alert", "publish_drift"}


def test_a_broken_yaml_breaks_only_its_own_dag(tmp_path: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    shutil.copytree(DAGS, tmp_path / "dags")
    (tmp_path / "dags" / "monitors" / "orders.yaml").write_text(
        "name: orders\nsource: {url_env: X}\ntable: orders\ntimestamp: ts\n"
        "features:\n  - {name: amount, kind: numeric, bins: 1}\n"
    )
    bag = DagBag(dag_folder=str(tmp_path / "dags"))
    assert bag.import_errors == {}
    assert "drift_demo_events" in bag.dag_ids
    broken = bag.dags.get("drift_orders__invalid")
    assert "orders.yaml: features[0].bins" in broken.description
    assert "invalid-config" in broken.tags


def _intervals(monitor_yaml: dict[str, object], after: datetime, n: int) -> list[tuple[int, int]]:
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    monitor = parse_monitor(monitor_yaml)
    dag = build_dags_for(monitor)
    table = coerce_to_core_timetable(dag.timetable)
    out, last = [], None
    restriction = TimeRestriction(earliest=pendulum.instance(after), latest=None, catchup=True)
    for _ in range(n):
        info = table.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        last = info.data_interval
        out.append((last.start.hour, int((last.end - last.start).total_seconds())))
    return out


def build_dags_for(monitor: object) -> object:
    from drift.airflow import build_monitor_dag

    return build_monitor_dag(monitor)  # type: ignore[arg-type]


BASE = {"name": "m", "source": {"url": "sqlite://"}, "table": "t", "timestamp": "ts"}


def test_a_daily_window_is_a_daily_data_interval() -> None:
    got = _intervals({**BASE, "window": "1d"}, datetime(2024, 1, 1, tzinfo=UTC), 2)
    assert got == [(0, 86_400), (0, 86_400)]


def test_a_cron_schedule_gives_intervals_between_ticks() -> None:
    got = _intervals({**BASE, "schedule": "0 */6 * * *"}, datetime(2024, 1, 1, tzinfo=UTC), 3)
    assert got == [(0, 21_600), (6, 21_600), (12, 21_600)]


def test_an_hourly_window_is_aligned_to_the_hour() -> None:
    got = _intervals({**BASE, "window": "1h"}, datetime(2024, 1, 1, 5, 30, tzinfo=UTC), 1)
    assert got == [(6, 3600)]


def test_only_the_dag_a_task_needs_is_built() -> None:
    dags = build_dags(DAGS / "monitors", only="drift_demo_events")
    assert list(dags) == ["drift_demo_events"]
    assert build_dags(DAGS / "monitors", only="drift_other") == {}


def test_the_provider_is_found_through_its_entry_point() -> None:
    from airflow.providers_manager import ProvidersManager

    providers = ProvidersManager().providers
    assert "airflow-drift" in providers
    assert providers["airflow-drift"].data["name"] == "Drift"


def test_the_plugin_is_registered() -> None:
    from airflow import plugins_manager

    apps, _ = plugins_manager.get_fastapi_plugins()
    assert any(a.get("url_prefix") == "/drift" for a in apps)


def test_the_plugin_app_refuses_unauthenticated_requests(airflow_db: Path) -> None:
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    client = TestClient(create_app())
    response = client.get("/drift/api/monitors")
    assert response.status_code == 401
    assert "drift_" not in response.text
