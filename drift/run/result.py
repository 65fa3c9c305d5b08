"""What one monitor window produced: :class:`WindowResult`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drift.alerts.types import WindowSummary
from drift.run.records import feature_summary
from drift.stats import FeatureScore

__all__ = ["SEVERITY_ORDER", "WindowResult"]

SEVERITY_ORDER = {"ok": 0, "warn": 1, "critical": 2}


@dataclass(frozen=True, slots=True)
class WindowResult:
    """What one monitor window produced.

    Attributes
    ----------
    monitor : str
        The monitor's name.
    window_start, window_end : datetime
        The live window ``[start, end)``, UTC.
    status : {"ok", "insufficient_data", "error"}
        ``insufficient_data`` when no feature had enough rows to be judged.
    scores : tuple of FeatureScore
        One per feature, in the monitor's order.
    run_id : int or None
        The run's row in the results store.
    error : str or None
        Why the run failed, and the notes of a run that did not (features
        with few rows or skipped columns).
    """

    monitor: str
    window_start: datetime
    window_end: datetime
    status: str
    scores: tuple[FeatureScore, ...]
    run_id: int | None = None
    error: str | None = None

    @property
    def drifted(self) -> tuple[str, ...]:
        """Features with significant drift of at least ``min_effect``.

        Of the features that were measured: a partial failure (status
        ``error`` with scores) reports what its measured features found, as
        its table and its alerts do; a window with too little data, none.
        """
        if self.status == "insufficient_data":
            return ()
        return tuple(s.feature for s in self.scores if s.drifted)

    @property
    def max_severity(self) -> str:
        """The worst severity over the measured features (``ok`` without any)."""
        if self.status == "insufficient_data" or not self.scores:
            return "ok"
        return max((s.severity for s in self.scores), key=SEVERITY_ORDER.__getitem__)

    def summary(self) -> WindowSummary:
        """The typed summary handed to alerts, the Airflow tasks and the CLI."""
        return WindowSummary(
            monitor=self.monitor,
            window_start=self.window_start,
            window_end=self.window_end,
            status=self.status,
            run_id=self.run_id,
            error=self.error,
            drifted=self.drifted,
            max_severity=self.max_severity,
            features=tuple(feature_summary(s) for s in self.scores),
        )
