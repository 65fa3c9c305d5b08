"""The DAG folder, timetables, the Asset scheme, provider and plugin, in real Airflow."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pendulum
import pytest

from drift.airflow import asset_uri, build_dags, build_monitor_dag
from drift.config import parse_monitor

DAGS = Path(__file__).resolve().parents[2] / "dags"
BASE = {"name": "m", "source": {"url": "sqlite://"}, "table": "t", "timestamp": "ts"}
BAD_BINS = (
    "name: orders\nsource: {url_env: X}\ntable: orders\ntimestamp: ts\n"
    "features:\n  - {name: amount, kind: numeric, bins: 1}\n"
)


def _bag(folder: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder))


def _dags_with(tmp_path: Path, files: dict[str, str]) -> Path:
    """A copy of the real dags/ folder with extra monitor files."""
    shutil.copytree(DAGS, tmp_path / "dags")
    for name, text in files.items():
        (tmp_path / "dags" / "monitors" / name).write_text(text)
    return tmp_path / "dags"


def test_dagbag_loads_every_file_without_import_errors() -> None:
    bag = _bag(DAGS)
    assert bag.import_errors == {}
    dag = bag.dags["drift_demo_events"]
    assert [t.task_id for t in dag.topological_sort()][:2] == ["baseline", "measure"]
    assert {t.task_id for t in dag.tasks} == {"baseline", "measure", "alert", "publish_drift"}
    assert dag.get_task("measure").retries == 2
    assert [o.uri for o in dag.get_task("publish_drift").outlets] == ["drift://demo_events"]


def test_a_broken_yaml_is_one_import_error_naming_file_and_key(tmp_path: Path) -> None:
    bag = _bag(_dags_with(tmp_path, {"orders.yaml": BAD_BINS}))
    (path, error), *others = bag.import_errors.items()
    assert others == []
    assert path.endswith("drift_monitor_errors.py")
    assert "orders.yaml: features[0].bins" in error
    assert "drift_demo_events" in bag.dag_ids  # the good monitor still loads
    assert not any("orders" in d for d in bag.dag_ids)


def test_yaml_that_does_not_parse_names_the_line(tmp_path: Path) -> None:
    bag = _bag(_dags_with(tmp_path, {"typo.yaml": "name: typo\nsource: [unclosed\n"}))
    (error,) = bag.import_errors.values()
    assert "typo.yaml:3:1: invalid YAML" in error
    assert "drift_demo_events" in bag.dag_ids


def test_two_files_with_one_monitor_name_keep_the_first(tmp_path: Path) -> None:
    twin = (DAGS / "monitors" / "demo_events.yaml").read_text()
    bag = _bag(_dags_with(tmp_path, {"zz_twin.yml": twin}))
    (error,) = bag.import_errors.values()
    assert "zz_twin.yml: name: 'demo_events' is already used by" in error
    assert "demo_events.yaml" in bag.dags["drift_demo_events"].doc_md


def _intervals(monitor_yaml: dict[str, object], after: datetime, n: int) -> list[tuple[int, int]]:
    """(start hour, length in seconds) of the first ``n`` scheduled data intervals."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    dag = build_monitor_dag(parse_monitor(monitor_yaml))
    table = coerce_to_core_timetable(dag.timetable)
    out, last = [], None
    restriction = TimeRestriction(earliest=pendulum.instance(after), latest=None, catchup=True)
    for _ in range(n):
        info = table.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        last = info.data_interval
        out.append((last.start.hour, int((last.end - last.start).total_seconds())))
    return out


JAN_1 = datetime(2024, 1, 1, tzinfo=UTC)


def test_a_daily_window_is_a_daily_data_interval() -> None:
    assert _intervals({**BASE, "window": "1d"}, JAN_1, 2) == [(0, 86_400), (0, 86_400)]


def test_a_cron_schedule_gives_intervals_between_ticks() -> None:
    got = _intervals({**BASE, "schedule": "0 */6 * * *"}, JAN_1, 3)
    assert got == [(0, 21_600), (6, 21_600), (12, 21_600)]


def test_a_schedule_with_a_window_gives_windows_ending_at_each_tick() -> None:
    got = _intervals({**BASE, "schedule": "0 6 * * *", "window": "1d"}, JAN_1, 2)
    assert got == [(6, 86_400), (6, 86_400)]


def test_an_hourly_window_is_aligned_to_the_hour() -> None:
    got = _intervals({**BASE, "window": "1h"}, datetime(2024, 1, 1, 5, 30, tzinfo=UTC), 1)
    assert got == [(6, 3600)]


def test_a_weekly_window_is_seven_days_long() -> None:
    assert _intervals({**BASE, "window": "7d"}, JAN_1, 2) == [(0, 604_800), (0, 604_800)]


def test_a_task_parses_only_its_own_monitor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = BAD_BINS.replace("bins: 1", "bins: 5")
    folder = _dags_with(tmp_path, {"orders.yaml": other})
    assert {"drift_demo_events", "drift_orders"} <= set(_bag(folder).dag_ids)
    # What Airflow's task runner sets before it parses the DAG file of a task.
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "drift_orders")
    assert _bag(folder).dag_ids == ["drift_orders"]


def test_only_the_dag_a_task_needs_is_built() -> None:
    dags = build_dags(DAGS / "monitors", only="drift_demo_events")
    assert list(dags) == ["drift_demo_events"]
    assert build_dags(DAGS / "monitors", only="drift_other") == {}


def test_drift_asset_uris_keep_their_form_and_reject_paths() -> None:
    from airflow.sdk import Asset

    assert Asset(asset_uri("demo_events")).uri == "drift://demo_events"
    assert Asset("drift://demo_events/").uri == "drift://demo_events"
    with pytest.raises(ValueError, match=r"drift://<monitor name>"):
        Asset("drift://demo_events/features/amount")


def test_the_provider_is_found_through_its_entry_point() -> None:
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    info = ProvidersManager().providers["airflow-drift"].data
    assert info["name"] == "Drift"
    assert set(info["config"]["drift"]["options"]) == {
        "results_conn_id", "dashboard_base_url", "monitors_folder", "dag_shards",
    }  # fmt: skip
    assert "drift" in ProvidersManagerTaskRuntime().asset_uri_handlers


def test_the_plugin_is_registered_with_its_app_and_nav_link() -> None:
    from airflow import plugins_manager

    (info,) = [p for p in plugins_manager.get_plugin_info() if p["name"] == "drift"]
    assert [a["url_prefix"] for a in info["fastapi_apps"]] == ["/drift"]
    assert info["external_views"] == [
        {"name": "Drift", "href": "drift/", "url_route": "drift", "destination": "nav"}
    ]
    assert plugins_manager.get_import_errors() == {}


@pytest.fixture(scope="module")
def api_client(airflow_db: Path) -> Any:
    """Airflow's own API server app (with the plugin mounted), in process."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    return TestClient(create_app())


def test_the_plugin_app_refuses_unauthenticated_requests(api_client: Any) -> None:
    for path in ("/drift/", "/drift/api/monitors", "/drift/static/anything.js"):
        response = api_client.get(path)
        assert response.status_code == 401, path
        assert "drift_" not in response.text


def test_the_plugin_app_refuses_a_forged_token(api_client: Any) -> None:
    response = api_client.get("/drift/", headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 403


def test_the_plugin_app_answers_an_airflow_user(
    api_client: Any, demo_results: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dashboard, mounted in Airflow's API server: pages, API and plotly.js under /drift."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    monkeypatch.setenv("DRIFT_RESULTS_URL", demo_results)
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="ann", role="viewer"))
    bearer = {"Authorization": f"Bearer {token}"}
    overview = api_client.get("/drift/", headers=bearer)
    assert overview.status_code == 200
    assert overview.headers["content-type"].startswith("text/html")
    assert 'href="/drift/monitors/demo_events"' in overview.text
    assert 'src="/drift/static/plotly.min.js"' in overview.text
    monitors = api_client.get("/drift/api/monitors", headers=bearer).json()
    assert [m["name"] for m in monitors] == ["demo_events"]
    page = api_client.get("/drift/monitors/demo_events", headers=bearer)
    assert page.status_code == 200
    assert f'href="/drift/runs/{monitors[0]["last_run_id"]}"' in page.text
    assert api_client.get("/drift/static/plotly.min.js", headers=bearer).status_code == 200
    api_client.cookies.set("_token", token)  # how the Airflow UI's iframe calls it
    try:
        assert api_client.get("/drift/").status_code == 200
    finally:
        api_client.cookies.clear()
