"""A monitor's ``description`` is its DAG's description, in the DagBag and once serialized."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from drift.airflow import build_monitor_dag, dag_id
from drift.config import parse_monitor

DAGS = Path(__file__).resolve().parents[2] / "dags"
BASE = {"name": "m", "source": {"url": "sqlite://"}, "table": "t", "timestamp": "ts"}


def _round_trip(dag: Any) -> Any:
    """The DAG as the scheduler and the UI see it: serialized, then read back."""
    from airflow.serialization.serialized_objects import DagSerialization

    return DagSerialization.from_dict(DagSerialization.to_dict(dag))


def test_the_demo_monitors_description_is_its_dags_description() -> None:
    from airflow.dag_processing.dagbag import DagBag

    monitor = parse_monitor(yaml.safe_load((DAGS / "monitors" / "demo_events.yaml").read_text()))
    assert monitor.description  # the demo monitor has one, so the check below means something
    bag = DagBag(dag_folder=str(DAGS))
    dag = bag.dags[dag_id(monitor.name)]
    assert dag.description == monitor.description
    assert _round_trip(dag).description == monitor.description


def test_a_monitor_without_a_description_gives_a_dag_without_one() -> None:
    dag = build_monitor_dag(parse_monitor(BASE))
    assert dag.description is None
    assert _round_trip(dag).description is None
