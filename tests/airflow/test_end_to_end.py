"""The demo monitor DAG run by real Airflow (``dag.test``) over several windows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from drift.sources.demo_data import DEMO_START, make_demo_source
from drift.store import ResultsStore
from drift.store import tables as t

DAGS = Path(__file__).resolve().parents[2] / "dags"
# The demo data shift on day 16 (2024-05-17); the monitor's reference ends on day 14.
SHIFT = DEMO_START + timedelta(days=16)


@pytest.fixture
def demo_env(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    make_demo_source(source, days=19, shift_day=16, rows_per_day=300)
    monkeypatch.setenv("DRIFT_DEMO_SOURCE_URL", source)
    monkeypatch.setenv("DRIFT_RESULTS_URL", db_url)
    monkeypatch.setenv("DRIFT_ALERT_DIR", str(tmp_path / "alerts"))
    yield db_url


def _dag() -> object:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    return bag.dags["drift_demo_events"]


def _asset_events() -> list[dict[str, object]]:
    from airflow import settings
    from airflow.models.asset import AssetEvent, AssetModel

    session = settings.Session()
    try:
        rows = (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.uri.like("drift://demo_events%"))
            .all()
        )
        return [dict(r.extra or {}) for r in rows]
    finally:
        session.close()


def _counts(url: str) -> tuple[int, int, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        out = tuple(
            int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
            for table in (t.run, t.score, t.histogram)
        )
    engine.dispose()
    return out  # type: ignore[return-value]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_scheduled_windows_store_results_and_publish_drift(demo_env: str) -> None:
    dag = _dag()
    before = len(_asset_events())
    ends = [SHIFT, SHIFT + timedelta(days=1), SHIFT + timedelta(days=2)]
    for end in ends:
        dag_run = dag.test(logical_date=end)  # type: ignore[attr-defined]
        assert dag_run.state == "success"
    store = ResultsStore(demo_env)
    runs = store.runs("demo_events")
    assert [r.window_end for r in runs] == ends
    assert all(r.status == "ok" and r.airflow_run_id for r in runs)
    quiet, shifted = store.run_scores(runs[0].id), store.run_scores(runs[1].id)
    assert {s.severity for s in quiet if s.metric == "kl"} == {"ok"}
    assert {s.feature for s in shifted if s.metric == "kl" and s.severity != "ok"} == {
        "amount", "country", "prompt",
    }  # fmt: skip
    events = _asset_events()[before:]
    assert [e["window_end"] for e in events] == [e.isoformat() for e in ends[1:]]
    assert set(events[0]["drifted"]) == {"amount", "country", "prompt"}  # type: ignore[arg-type]
    assert len(list(Path(os.environ["DRIFT_ALERT_DIR"], "demo_events").glob("*.json"))) == 2
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_running_a_window_again_changes_nothing(demo_env: str) -> None:
    dag = _dag()
    dag.test(logical_date=SHIFT + timedelta(days=1))  # type: ignore[attr-defined]
    store = ResultsStore(demo_env)
    (first,) = store.runs("demo_events")
    counts = _counts(demo_env)
    scores = [(s.feature, s.metric, s.value) for s in store.run_scores(first.id)]
    dag.test(logical_date=SHIFT + timedelta(days=1))  # type: ignore[attr-defined]
    (again,) = store.runs("demo_events")
    assert again.id == first.id
    assert _counts(demo_env) == counts
    assert [(s.feature, s.metric, s.value) for s in store.run_scores(again.id)] == scores
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_alert_reaches_a_real_http_receiver_once(
    demo_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/hook", method="POST").respond_with_data("ok")
    server.start()
    monitors = tmp_path / "monitors"
    monitors.mkdir()
    (monitors / "paged.yaml").write_text(
        "name: paged\nsource: {url_env: DRIFT_DEMO_SOURCE_URL}\ntable: events\n"
        "timestamp: created_at\nreference: {start: 2024-05-01, end: 2024-05-15}\n"
        "features: [{name: country, kind: categorical}]\n"
        f"alerts: [{{apprise: 'json://127.0.0.1:{server.port}/hook'}}]\n"
    )
    monkeypatch.setenv("DRIFT_MONITORS_PATH", str(monitors))
    try:
        dag = DagBag(dag_folder=str(DAGS)).dags["drift_paged"]
        for end in (SHIFT, SHIFT + timedelta(days=1), SHIFT + timedelta(days=1)):
            assert dag.test(logical_date=end).state == "success"  # type: ignore[attr-defined]
        posts = [request.get_json() for request, _ in server.log]
    finally:
        server.stop()
    assert [p["title"] for p in posts] == ["[CRITICAL] paged.country: drift detected"]
    assert "2024-05-17T00:00:00+00:00 .. 2024-05-18T00:00:00+00:00" in posts[0]["message"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_manual_run_takes_its_window_from_params(demo_env: str) -> None:
    end = SHIFT + timedelta(days=1)
    window = {"window_start": SHIFT.isoformat(), "window_end": end.isoformat()}
    dag_run = _dag().test(logical_date=None, run_conf=window)  # type: ignore[attr-defined]
    assert dag_run.state == "success"
    store = ResultsStore(demo_env)
    (run,) = store.runs("demo_events")
    assert (run.window_start, run.window_end) == (SHIFT, end)
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_manual_run_without_a_window_fails_at_once(demo_env: str) -> None:
    dag_run = _dag().test(logical_date=None)  # type: ignore[attr-defined]
    assert dag_run.state == "failed"
    baseline = dag_run.get_task_instance("baseline")
    assert (baseline.state, baseline.try_number) == ("failed", 1)  # not retried
    assert {ti.task_id for ti in dag_run.get_task_instances() if ti.state == "success"} == set()
