"""From scores to what is stored and reported: store records and typed summaries."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from drift.alerts.types import BinShare, FeatureSummary, finite
from drift.config import MonitorConfig
from drift.stats import FeatureScore
from drift.stats.metrics import metric_value
from drift.stats.pairs import PAIR_KIND
from drift.store.records import HistogramRecord, RunRecord, ScoreRecord

__all__ = ["PAIR_METRICS", "Attempt", "feature_summary", "score_records"]

#: The chain-rule terms of a pair's KL, stored as two more metrics of the pair.
PAIR_METRICS = ("kl_marginal", "kl_conditional")


def score_records(
    monitor: MonitorConfig, scores: Iterable[FeatureScore]
) -> tuple[ScoreRecord, ...]:
    """One store row per feature and configured metric, with what was in force.

    ``n_current``/``n_reference`` and the missing rate count rows: documents
    for a text feature whose histograms know them (its tokens are the
    histogram's counts, stored beside in the histogram row).

    KL is always stored (it is what alerts decide on by default) and carries
    the bias-corrected value; the thresholds in force for the feature (its
    own, else the monitor's) are recorded on the row of the metric they
    apply to.
    """
    metrics = list(dict.fromkeys(("kl", *monitor.metrics)))
    rows: list[ScoreRecord] = []
    for s in scores:
        rule = monitor.thresholds_for(s.feature)
        for metric in metrics + list(PAIR_METRICS if s.kind == PAIR_KIND else ()):
            on_threshold = metric == rule.metric
            rows.append(
                ScoreRecord(
                    feature=s.feature,
                    metric=metric,
                    value=finite(
                        s.metrics.get(metric)
                        if metric in PAIR_METRICS
                        else metric_value(s.metrics, metric)
                    ),
                    value_corrected=finite(s.metrics.get("kl_corrected"))
                    if metric == "kl"
                    else None,
                    p_value=finite(s.p_value),
                    p_adjusted=finite(s.p_adjusted),
                    n_current=s.current.rows,
                    n_reference=s.reference.rows,
                    missing_rate=s.current.missing_rate,
                    severity=s.severity,
                    warn_threshold=rule.warn if on_threshold else None,
                    critical_threshold=rule.critical if on_threshold else None,
                    smoothing=monitor.smoothing.method,
                    alpha=monitor.smoothing.alpha,
                    segment=s.segment,
                )
            )
    return tuple(rows)


def feature_summary(score: FeatureScore, *, top: int = 5) -> FeatureSummary:
    """The typed summary of one feature's score, for alerts, XCom, events and the CLI."""
    ranked = sorted(
        zip(score.current.labels, score.contributions, strict=True),
        key=lambda pair: -pair[1],
    )
    return FeatureSummary(
        feature=score.feature,
        segment=score.segment,
        kind=score.kind,
        severity=score.severity,
        drifted=score.drifted,
        enough_data=score.enough_data,
        metrics={k: finite(v) for k, v in score.metrics.items()},
        p_value=finite(score.p_value),
        p_adjusted=finite(score.p_adjusted),
        n_current=score.current.rows,
        n_reference=score.reference.rows,
        tokens_current=None if score.current.documents is None else score.current.n,
        tokens_reference=None if score.reference.documents is None else score.reference.n,
        missing_rate=score.current.missing_rate,
        top_bins=tuple(BinShare(label, value) for label, value in ranked[:top] if value > 0),
        unseen=dict(score.current.unseen),
        warn_threshold=score.thresholds.warn,
        critical_threshold=score.thresholds.critical,
        notes=tuple(score.notes),
        test=score.test,
        dispersion=float(score.dispersion.phi),
        dispersion_source=score.dispersion.source,
        missing_reference_rate=finite(score.missing_reference_rate),
        missing_p_adjusted=finite(score.missing_p_adjusted),
        missing_drifted=bool(score.missing_drifted),
        **_range_fields(score),
    )


def _range_fields(score: FeatureScore) -> dict[str, Any]:
    """The reference range and the live values outside it (numeric features that know it)."""
    bounds = score.current.value_range
    if bounds is None:
        return {}
    return {
        "reference_min": bounds[0],
        "reference_max": bounds[1],
        "below_range": score.current.below,
        "above_range": score.current.above,
    }


class Attempt:
    """One measurement of one window, timed from its start to its record."""

    def __init__(
        self, monitor: MonitorConfig, start: datetime, end: datetime, airflow_run_id: str | None
    ) -> None:
        self.monitor, self.start, self.end = monitor, start, end
        self.airflow_run_id = airflow_run_id
        self.started = datetime.now(UTC)
        self.clock = time.perf_counter()

    def record(self, status: str, error: str | None, scores: Sequence[FeatureScore]) -> RunRecord:
        """The store record of this attempt, with every score and histogram."""
        return RunRecord(
            monitor=self.monitor.name,
            window_start=self.start,
            window_end=self.end,
            status=status,
            error=error,
            started_at=self.started,
            finished_at=datetime.now(UTC),
            duration_seconds=time.perf_counter() - self.clock,
            airflow_run_id=self.airflow_run_id,
            scores=score_records(self.monitor, scores),
            histograms=tuple(
                HistogramRecord(
                    feature=s.feature,
                    labels=s.current.labels,
                    counts=tuple(int(c) for c in s.current.counts),
                    missing=s.current.missing,
                    reference_counts=tuple(int(c) for c in s.reference.counts),
                    contributions=tuple(float(c) for c in s.contributions),
                    segment=s.segment,
                )
                for s in scores
            ),
        )
