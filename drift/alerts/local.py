"""The local alert channels every monitor has: the task log and, optionally, files.

Channels with delivery guarantees (Apprise, Airflow notifiers) and the
incident life cycle sit beside these. A window's alert file is rewritten,
never appended, so a retried task leaves one file per window.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from drift.alerts.messages import subject
from drift.alerts.types import FeatureSummary, WindowSummary

__all__ = ["ALERT_DIR_ENV", "log_alerts"]

log = logging.getLogger("drift.alerts")

#: Environment variable naming a folder for one JSON alert file per window.
ALERT_DIR_ENV = "DRIFT_ALERT_DIR"


def _line(summary: WindowSummary, feature: FeatureSummary) -> str:
    top = ", ".join(b.bin for b in feature.top_bins[:3]) or "-"
    p = feature.p_adjusted
    return (
        f"drift {feature.severity.upper()}: "
        f"{subject(summary.monitor, feature.feature, feature.segment)}"
        f"{', window' if feature.segment else ' in'} "
        f"[{summary.window_start.isoformat()}, {summary.window_end.isoformat()}): "
        f"kl_corrected={feature.metrics.get('kl_corrected') or 0.0:.4f} "
        f"p_adjusted={'n/a' if p is None else f'{p:.2g}'} "
        f"n={feature.n_current} vs {feature.n_reference}; top bins: {top}"
    )


def log_alerts(summary: WindowSummary) -> list[dict[str, Any]]:
    """Log each feature at warn or critical, and write them to ``$DRIFT_ALERT_DIR``.

    Parameters
    ----------
    summary : WindowSummary
        One stored window.

    Returns
    -------
    list of dict
        The features that raised an alert (as :meth:`FeatureSummary.to_dict`).
    """
    raised = [f for f in summary.features if f.severity in ("warn", "critical")]
    for feature in raised:
        log.warning("%s", _line(summary, feature))
    folder = os.environ.get(ALERT_DIR_ENV)
    start, end = summary.window_start.isoformat(), summary.window_end.isoformat()
    if folder and raised:
        target = Path(folder) / summary.monitor
        target.mkdir(parents=True, exist_ok=True)
        name = start.replace(":", "").replace("+", "_") + ".json"
        payload = {"window": [start, end], "alerts": [f.to_dict() for f in raised]}
        (target / name).write_text(json.dumps(payload, indent=2, sort_keys=True))
    return [f.to_dict() for f in raised]
