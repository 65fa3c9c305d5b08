"""One drift-monitor DAG per YAML file under dags/monitors/ (see drift.airflow.build_dags)."""

from airflow.sdk import get_parsing_context

from drift.airflow import build_dags, monitors_dir

globals().update(build_dags(monitors_dir(__file__), only=get_parsing_context().dag_id))
