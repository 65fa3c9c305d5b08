"""The Airflow 3 side of drift: DAGs from monitor YAML, connections, provider, plugin.

This is the only package that imports Airflow. Its names are loaded on first
use: Airflow imports ``drift.airflow.provider`` while reading its own
configuration (in every Airflow process, at ``import airflow``), and that
must not pull in the DAG factory, pydantic models and the pipeline.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drift.airflow.dags import (
        asset_uri,
        build_dags,
        build_monitor_dag,
        check_monitor_files,
        dag_id,
        monitors_dir,
    )
    from drift.airflow.sharding import build_shard, check_fleet

__all__ = [
    "asset_uri",
    "build_dags",
    "build_monitor_dag",
    "build_shard",
    "check_fleet",
    "check_monitor_files",
    "dag_id",
    "monitors_dir",
]


_SHARDING = {"build_shard", "check_fleet"}


def __getattr__(name: str) -> Any:
    if name in _SHARDING:
        return getattr(import_module("drift.airflow.sharding"), name)
    if name in __all__:
        return getattr(import_module("drift.airflow.dags"), name)
    raise AttributeError(f"module 'drift.airflow' has no attribute {name!r}")
