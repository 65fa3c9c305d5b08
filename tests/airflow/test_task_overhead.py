"""The three tasks of a monitor's Airflow run share one baseline (through XCom)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from drift.config import load_monitor
from drift.run import Baseline, prepare_baseline
from drift.sources.demo_data import DEMO_START, make_demo_source
from drift.store import ResultsStore

DAGS = Path(__file__).resolve().parents[2] / "dags"
SHIFT = DEMO_START + timedelta(days=16)


@pytest.fixture
def source_statements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    source = tmp_path / "source.db"
    make_demo_source(f"sqlite:///{source}", days=19, shift_day=16, rows_per_day=100)
    monkeypatch.setenv("DRIFT_DEMO_SOURCE_URL", f"sqlite:///{source}")
    seen: list[str] = []

    def listen(conn: sa.Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if (conn.engine.url.database or "").endswith("source.db"):
            seen.append(" ".join(statement.split()))

    sa.event.listen(Engine, "before_cursor_execute", listen)
    yield seen
    sa.event.remove(Engine, "before_cursor_execute", listen)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_baseline_to_dict_and_back_is_the_same_baseline(
    store: ResultsStore, source_statements: list[str]
) -> None:
    monitor = load_monitor(DAGS / "monitors" / "demo_events.yaml")
    prepared = prepare_baseline(monitor, SHIFT, SHIFT + timedelta(days=1), store=store)
    import json

    again = Baseline.from_dict(json.loads(json.dumps(prepared.to_dict())))
    assert again == prepared


def test_a_summary_without_state_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="no 'state' to rebuild it from"):
        Baseline.from_dict({"monitor": "m", "fitted": False, "version": 1, "features": {}})


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_airflow_run_samples_the_source_once_per_reading_task(
    db_url: str, monkeypatch: pytest.MonkeyPatch, source_statements: list[str]
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("DRIFT_RESULTS_URL", db_url)
    dag = DagBag(dag_folder=str(DAGS)).dags["drift_demo_events"]
    assert dag.test(logical_date=SHIFT).state == "success"  # fits the baseline
    source_statements.clear()
    store = ResultsStore(db_url)
    baselines_before = store.baseline_in_force("demo_events")
    assert dag.test(logical_date=SHIFT + timedelta(days=1)).state == "success"
    # baseline task: reflect + sample once; measure task (another process in production):
    # once more for its own reading, and no second baseline preparation.
    samples = [s for s in source_statements if "LIMIT" in s and " WHERE " not in s]
    assert len(samples) == 2
    windows = [s for s in source_statements if "FROM events WHERE" in s or "AS sum_1" in s]
    assert len(windows) == 3  # the live window only, in one statement per feature kind
    assert store.baseline_in_force("demo_events") == baselines_before
    store.close()
