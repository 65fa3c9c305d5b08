"""From scores to what is stored and reported: store records and JSON summaries."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from drift.config import MonitorConfig
from drift.stats import FeatureScore
from drift.store.records import ScoreRecord

__all__ = ["METRIC_KEYS", "feature_summary", "metric_value", "score_records"]

#: Config metric name -> the keys a FeatureScore may hold it under.
METRIC_KEYS: Mapping[str, tuple[str, ...]] = {
    "kl": ("kl",),
    "reverse_kl": ("reverse_kl",),
    "jeffreys": ("jeffreys", "psi"),
    "psi": ("psi", "jeffreys"),
    "jensen_shannon": ("jensen_shannon", "js"),
    "hellinger": ("hellinger",),
    "total_variation": ("total_variation", "tv"),
}


def _finite(value: float | None) -> float | None:
    """NaN and infinities are stored as NULL (MariaDB cannot hold them)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def metric_value(score: FeatureScore, metric: str) -> float | None:
    """The value of a config-named ``metric`` in ``score``, or ``None`` if undefined."""
    for key in METRIC_KEYS.get(metric, (metric,)):
        if key in score.metrics:
            return float(score.metrics[key])
    return None


def score_records(
    monitor: MonitorConfig, scores: Iterable[FeatureScore]
) -> tuple[ScoreRecord, ...]:
    """One store row per feature and configured metric, with what was in force.

    KL is always stored (it is what alerts decide on by default) and carries
    the bias-corrected value; the thresholds are recorded on the row of the
    metric they apply to.
    """
    metrics = list(dict.fromkeys(("kl", *monitor.metrics)))
    decided_by = monitor.thresholds.metric
    rows: list[ScoreRecord] = []
    for s in scores:
        for metric in metrics:
            on_threshold = metric == decided_by
            rows.append(
                ScoreRecord(
                    feature=s.feature,
                    metric=metric,
                    value=_finite(metric_value(s, metric)),
                    value_corrected=_finite(s.metrics.get("kl_corrected"))
                    if metric == "kl"
                    else None,
                    p_value=_finite(s.p_value),
                    p_adjusted=_finite(s.p_adjusted),
                    n_current=s.current.n,
                    n_reference=s.reference.n,
                    missing_rate=s.current.missing_rate,
                    severity=s.severity,
                    warn_threshold=monitor.thresholds.warn if on_threshold else None,
                    critical_threshold=monitor.thresholds.critical if on_threshold else None,
                    smoothing=monitor.smoothing.method,
                    alpha=monitor.smoothing.alpha,
                )
            )
    return tuple(rows)


def feature_summary(score: FeatureScore, *, top: int = 5) -> dict[str, Any]:
    """A JSON-ready summary of one feature's score, for XCom, events and alerts."""
    ranked = sorted(
        zip(score.current.labels, score.contributions, strict=True),
        key=lambda pair: -pair[1],
    )
    return {
        "feature": score.feature,
        "kind": score.kind,
        "severity": score.severity,
        "drifted": score.drifted,
        "enough_data": score.enough_data,
        "metrics": {k: _finite(v) for k, v in score.metrics.items()},
        "p_value": _finite(score.p_value),
        "p_adjusted": _finite(score.p_adjusted),
        "n_current": score.current.n,
        "n_reference": score.reference.n,
        "missing_rate": score.current.missing_rate,
        "top_bins": [
            {"bin": label, "contribution": value} for label, value in ranked[:top] if value > 0
        ],
        "unseen": dict(score.current.unseen),
    }
