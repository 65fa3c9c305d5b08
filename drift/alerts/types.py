"""The vocabulary of alerts: what a window found, incident changes, notifications.

:class:`WindowSummary` is what the run layer hands to alerts, the Airflow
tasks (through XCom, as :meth:`WindowSummary.to_dict`) and the CLI; it is
defined here, at the bottom of the alerts package, so that alerts never
import the run layer. :class:`AlertStore` is what alerts need of a results
store; :class:`drift.store.ResultsStore` provides it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

__all__ = [
    "AlertChange",
    "AlertStore",
    "BinShare",
    "FeatureSummary",
    "OpenAlert",
    "OutgoingNotification",
    "PendingNotification",
    "RecentScore",
    "WindowSummary",
]


def finite(value: float | None) -> float | None:
    """``value``, or ``None`` for NaN and infinities (JSON and MariaDB cannot hold them)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True, slots=True)
class BinShare:
    """One bin (or token) and its share of the KL divergence."""

    bin: str
    contribution: float


@dataclass(frozen=True, slots=True)
class FeatureSummary:
    """One feature's verdict in a window, as alerts and reports show it.

    ``test`` names the homogeneity test used (``g``, ``quasi_f``,
    ``monte_carlo``, ...) and ``dispersion`` the variance inflation it
    allowed for (1: independent rows). ``missing_drifted`` says the missing
    rate itself changed significantly (from ``missing_reference_rate`` to
    ``missing_rate``). ``n_current`` and ``n_reference`` count rows (documents for text);
    ``tokens_current`` and ``tokens_reference`` count tokens of text features
    (``None`` for other kinds). ``metrics`` holds NaN and infinities as
    ``None``. For numeric features whose baseline knows the reference's
    observed range ``[reference_min, reference_max]``, ``below_range`` and
    ``above_range`` count the live values outside it and
    :attr:`outside_range` is their share of the live values; a finding,
    reported, that changes no verdict. ``segment`` names the rows judged:
    ``""`` the whole population, else a segment (``"country=BR"``, see
    :mod:`drift.stats.segments`); each (feature, segment) has its own incident.
    """

    feature: str
    kind: str
    severity: str
    drifted: bool
    enough_data: bool
    metrics: Mapping[str, float | None]
    p_value: float | None
    p_adjusted: float | None
    n_current: int
    n_reference: int
    missing_rate: float
    top_bins: tuple[BinShare, ...] = ()
    unseen: Mapping[str, int] = field(default_factory=dict)
    warn_threshold: float | None = None
    critical_threshold: float | None = None
    tokens_current: int | None = None
    tokens_reference: int | None = None
    notes: tuple[str, ...] = ()
    test: str = "g"
    dispersion: float = 1.0
    dispersion_source: str = "independent"
    missing_reference_rate: float | None = None
    missing_p_adjusted: float | None = None
    missing_drifted: bool = False
    reference_min: float | None = None
    reference_max: float | None = None
    below_range: int = 0
    above_range: int = 0
    segment: str = ""

    @property
    def outside_range(self) -> float | None:
        """Share of live values outside the reference range (``None`` if no range is known)."""
        if self.reference_min is None or self.reference_max is None:
            return None
        outside = self.below_range + self.above_range
        return outside / self.n_current if self.n_current else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "feature": self.feature,
            "segment": self.segment,
            "kind": self.kind,
            "severity": self.severity,
            "drifted": self.drifted,
            "enough_data": self.enough_data,
            "metrics": dict(self.metrics),
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "n_current": self.n_current,
            "n_reference": self.n_reference,
            "tokens_current": self.tokens_current,
            "tokens_reference": self.tokens_reference,
            "missing_rate": self.missing_rate,
            "warn_threshold": self.warn_threshold,
            "critical_threshold": self.critical_threshold,
            "top_bins": [{"bin": b.bin, "contribution": b.contribution} for b in self.top_bins],
            "unseen": dict(self.unseen),
            "notes": list(self.notes),
            "test": self.test,
            "dispersion": self.dispersion,
            "dispersion_source": self.dispersion_source,
            "missing_reference_rate": self.missing_reference_rate,
            "missing_p_adjusted": self.missing_p_adjusted,
            "missing_drifted": self.missing_drifted,
            "reference_min": self.reference_min,
            "reference_max": self.reference_max,
            "below_range": self.below_range,
            "above_range": self.above_range,
            "outside_range": self.outside_range,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSummary:
        """The inverse of :meth:`to_dict`."""
        return cls(
            feature=str(data["feature"]),
            kind=str(data["kind"]),
            severity=str(data["severity"]),
            drifted=bool(data["drifted"]),
            enough_data=bool(data["enough_data"]),
            metrics=dict(data["metrics"]),
            p_value=data["p_value"],
            p_adjusted=data["p_adjusted"],
            n_current=int(data["n_current"]),
            n_reference=int(data["n_reference"]),
            missing_rate=float(data["missing_rate"]),
            top_bins=tuple(
                BinShare(str(b["bin"]), float(b["contribution"])) for b in data["top_bins"]
            ),
            unseen={str(k): int(v) for k, v in data.get("unseen", {}).items()},
            warn_threshold=data.get("warn_threshold"),
            critical_threshold=data.get("critical_threshold"),
            tokens_current=data.get("tokens_current"),
            tokens_reference=data.get("tokens_reference"),
            notes=tuple(data.get("notes", ())),
            test=str(data.get("test", "g")),
            dispersion=float(data.get("dispersion", 1.0)),
            dispersion_source=str(data.get("dispersion_source", "independent")),
            missing_reference_rate=data.get("missing_reference_rate"),
            missing_p_adjusted=data.get("missing_p_adjusted"),
            missing_drifted=bool(data.get("missing_drifted", False)),
            reference_min=data.get("reference_min"),
            reference_max=data.get("reference_max"),
            below_range=int(data.get("below_range", 0)),
            above_range=int(data.get("above_range", 0)),
            segment=str(data.get("segment", "")),
        )


@dataclass(frozen=True, slots=True)
class WindowSummary:
    """What one monitor window produced, after it was stored.

    ``drifted`` and ``max_severity`` are empty and ``ok`` unless the status
    is ``ok``; ``notes`` says what was skipped, too small or not measured.
    """

    monitor: str
    window_start: datetime
    window_end: datetime
    status: str
    run_id: int | None
    error: str | None
    drifted: tuple[str, ...]
    max_severity: str
    features: tuple[FeatureSummary, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO-8601), for XCom, Asset event extras and ``--format json``."""
        return {
            "monitor": self.monitor,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "status": self.status,
            "run_id": self.run_id,
            "error": self.error,
            "drifted": list(self.drifted),
            "max_severity": self.max_severity,
            "features": [f.to_dict() for f in self.features],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WindowSummary:
        """The inverse of :meth:`to_dict`."""
        return cls(
            monitor=str(data["monitor"]),
            window_start=datetime.fromisoformat(data["window_start"]),
            window_end=datetime.fromisoformat(data["window_end"]),
            status=str(data["status"]),
            run_id=data["run_id"],
            error=data["error"],
            drifted=tuple(data["drifted"]),
            max_severity=str(data["max_severity"]),
            features=tuple(FeatureSummary.from_dict(f) for f in data["features"]),
        )


@dataclass(frozen=True, slots=True)
class OutgoingNotification:
    """A notification to record with an alert change."""

    key: str
    channel: str
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class AlertChange:
    """A state change of one monitor/feature/segment alert, decided by the alert policy.

    ``event`` is ``open``, ``escalate``, ``update`` (quiet) or ``resolve``;
    ``expect_severity`` is the open alert's severity the decision was based on
    (``None``: no alert was open), so a decision made on stale state is
    refused and decided again. ``segment`` is ``""`` for the whole population.
    """

    monitor: str
    feature: str
    event: str
    severity: str
    run_id: int
    message: str
    expect_severity: str | None
    notifications: Sequence[OutgoingNotification] = ()
    #: When the open alert was acknowledged as the decision saw it (``None``: not).
    expect_acknowledged_at: datetime | None = None
    segment: str = ""


@dataclass(frozen=True, slots=True)
class RecentScore:
    """One feature's stored verdict in one past window, as the alert policy reads it.

    ``value`` is the score the thresholds apply to (``None`` when not stored
    or not finite); ``missing_rate`` the window's live missing rate.
    """

    window_end: datetime
    severity: str
    value: float | None
    missing_rate: float | None = None


class OpenAlert(Protocol):
    """What alerts read of an open incident."""

    @property
    def feature(self) -> str: ...

    @property
    def segment(self) -> str: ...

    @property
    def severity(self) -> str: ...

    @property
    def acknowledged_by(self) -> str | None: ...

    @property
    def acknowledged_at(self) -> datetime | None: ...

    @property
    def acknowledged_note(self) -> str | None: ...


class PendingNotification(Protocol):
    """What delivery reads of a recorded, unsent notification."""

    @property
    def key(self) -> str: ...

    @property
    def channel(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def body(self) -> str: ...


class AlertStore(Protocol):
    """The results-store operations the alert life cycle and delivery use."""

    def open_alerts(self, monitor: str | None = None) -> Sequence[OpenAlert]: ...

    def recent_severities(
        self,
        monitor: str,
        feature: str,
        metric: str,
        until: datetime,
        n: int,
        *,
        segment: str = "",
    ) -> Sequence[str]: ...

    def recent_scores(
        self,
        monitor: str,
        feature: str,
        metric: str,
        until: datetime,
        n: int,
        *,
        corrected: bool = False,
        segment: str = "",
    ) -> Sequence[RecentScore]: ...

    def alert_watermark(self, monitor: str, feature: str, segment: str = "") -> datetime | None: ...

    def apply_alert_change(self, change: AlertChange) -> int | None: ...

    def pending_notifications(
        self, monitor: str | None = None
    ) -> Sequence[PendingNotification]: ...

    def claim_notification(self, key: str) -> bool: ...

    def release_notification(self, key: str, error: str) -> None: ...

    def mark_notification_sent(self, key: str) -> None: ...
