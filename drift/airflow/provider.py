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
    """The provider info dict read through the ``apache_airflow_provider`` entry point."""
    return {
        "package-name": "airflow-drift",
        "name": "Drift",
        "description": "Data-drift monitoring: binned KL divergence, stored results, alerts.",
        "versions": [_version()],
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
                    "monitors_folder": {
                        "description": "Folder of monitor YAML files, relative to the dags folder.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "monitors",
                        "default": "monitors",
                    },
                },
            }
        },
    }
