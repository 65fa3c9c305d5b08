"""Provider metadata: how Airflow's providers manager describes this package."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

__all__ = ["get_provider_info"]


def _version() -> str:
    try:
        return version("airflow-drift")
    except PackageNotFoundError:  # pragma: no cover - running from an unbuilt tree
        return "0.0.0"


def get_provider_info() -> dict[str, Any]:
    """The provider info read by Airflow through the ``apache_airflow_provider`` entry point.

    Returns
    -------
    dict
        ``package-name`` (the distribution name), name, description,
        versions, the ``drift`` Asset URI scheme and the ``[drift]`` config
        section (``AIRFLOW__DRIFT__*`` overrides it).
    """
    return {
        "package-name": "airflow-drift",
        "name": "Drift",
        "description": "Data-drift monitoring: binned KL divergence, stored results, alerts.",
        "versions": [_version()],
        # Assets drift://<monitor> get an event when a monitor finds drift.
        "asset-uris": [
            {"schemes": ["drift"], "handler": "drift.airflow.assets.normalize_drift_uri"}
        ],
        "config": {
            "drift": {
                "description": "Data-drift monitors (airflow-drift).",
                "options": {
                    "results_conn_id": {
                        "description": "Connection holding the results database; when it is "
                        "not defined, DRIFT_RESULTS_URL, else SQLite under AIRFLOW_HOME.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "drift_results",
                        "default": "drift_results",
                    },
                    "dashboard_base_url": {
                        "description": "Public URL of the drift dashboard (in Airflow: the "
                        "API server's base URL followed by drift/), used for links in alerts; "
                        "empty means alerts carry no link.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "https://airflow.example.com/drift/",
                        "default": "",
                    },
                    "monitors_folder": {
                        "description": "Folder of monitor YAML files, relative to the folder "
                        "of the DAG file that builds the monitors (the environment variable "
                        "DRIFT_MONITORS_PATH, when set, wins).",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "monitors",
                        "default": "monitors",
                    },
                    "dag_shards": {
                        "description": "Number of DAG files the monitors are spread over "
                        "(dags/drift_monitors_shard_NN.py, one per shard, by CRC-32 of the "
                        "monitor name), so the dag-processor parses them in parallel; the "
                        "environment variable DRIFT_DAG_SHARDS, when set, wins.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "16",
                        "default": "8",
                    },
                },
            }
        },
    }
