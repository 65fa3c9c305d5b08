"""The Airflow 3 side of drift: DAGs from monitor YAML, connections, provider, plugin.

This is the only package that imports Airflow.
"""

from drift.airflow.dags import (
    asset_uri,
    build_dags,
    build_monitor_dag,
    check_monitor_files,
    dag_id,
    monitors_dir,
)

__all__ = [
    "asset_uri",
    "build_dags",
    "build_monitor_dag",
    "check_monitor_files",
    "dag_id",
    "monitors_dir",
]
