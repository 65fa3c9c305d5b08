"""One drift-monitor DAG per YAML file under dags/monitors/ (see drift.airflow.build_dags)."""

from pathlib import Path

from airflow.sdk import get_parsing_context

from drift.airflow import build_dags

globals().update(build_dags(Path(__file__).parent / "monitors", only=get_parsing_context().dag_id))
