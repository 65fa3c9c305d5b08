"""What an alert says: monitor, window, feature, severity, numbers, the bins behind it, a link."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

from drift.alerts.types import FeatureSummary, WindowSummary

__all__ = ["DASHBOARD_URL_ENV", "acknowledged_line", "alert_message", "run_link", "subject"]

#: Base URL of the dashboard, for the link in every alert.
DASHBOARD_URL_ENV = "DRIFT_DASHBOARD_URL"
DEFAULT_DASHBOARD_URL = "http://127.0.0.1:8050"

_VERB = {
    "open": "drift detected",
    "escalate": "drift got worse",
    "resolve": "drift resolved",
}
#: The line a segment's message opens with, per event: ``amount drifted in country=BR``.
_SEGMENT_LINE = {
    "escalate": "{feature} drifted further in {segment}",
    "resolve": "{feature} no longer drifts in {segment}",
}


def subject(monitor: str, feature: str, segment: str = "") -> str:
    """What an alert is about: ``checkout.amount``, or ``checkout.amount in country=BR``.

    >>> subject("checkout", "amount", "country=BR")
    'checkout.amount in country=BR'
    >>> subject("checkout", "amount")
    'checkout.amount'
    """
    return f"{monitor}.{feature}" + (f" in {segment}" if segment else "")


def _run_query(segment: str) -> str:
    return "?" + urlencode({"segment": segment}) if segment else ""


def run_link(monitor: str, run_id: int | None, segment: str = "") -> str:
    """The dashboard page of one run (showing ``segment``, when one is named)."""
    base = os.environ.get(DASHBOARD_URL_ENV, DEFAULT_DASHBOARD_URL).rstrip("/")
    return f"{base}/monitors/{monitor}/runs/{run_id}{_run_query(segment)}"


def _fmt(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def alert_message(
    event: str,
    severity: str,
    summary: WindowSummary,
    feature: FeatureSummary,
    thresholds: Mapping[str, float | None],
) -> tuple[str, str]:
    """The title and body of a notification.

    Parameters
    ----------
    event, severity : str
        The incident event (``open``, ``escalate``, ``resolve``) and severity.
    summary : WindowSummary
        The window.
    feature : FeatureSummary
        The feature's entry of ``summary.features``.
    thresholds : dict
        ``warn`` and ``critical`` in force.

    Notes
    -----
    A segment's message names it in the title
    (``[WARN] checkout.amount in country=BR: drift detected``) and opens with
    ``amount drifted in country=BR``; the whole population's reads as it did
    before segments. A pair's (kind ``pair``) adds the chain-rule split of
    its KL into the first feature's own shift and the relationship's.
    """
    monitor, name, segment = summary.monitor, feature.feature, feature.segment
    title = f"[{severity.upper()}] {subject(monitor, name, segment)}: {_VERB.get(event, event)}"
    metrics = feature.metrics
    lines = []
    if segment:
        line = _SEGMENT_LINE.get(event, "{feature} drifted in {segment}")
        lines.append(line.format(feature=name, segment=segment))
    lines += [
        f"monitor: {monitor}",
        f"window: {summary.window_start.isoformat()} .. {summary.window_end.isoformat()}",
        f"feature: {name} ({feature.kind})",
        *([f"segment: {segment}"] if segment else []),
        f"severity: {severity} ({event})",
        f"kl_corrected: {_fmt(metrics.get('kl_corrected'))} nats "
        f"(kl {_fmt(metrics.get('kl'))}; warn at {thresholds.get('warn')}, "
        f"critical at {thresholds.get('critical')})",
        f"p-value (BH-adjusted): {_fmt(feature.p_adjusted, 3)}",
        _sizes(feature),
    ]
    if "kl_marginal" in metrics or "kl_conditional" in metrics:
        lines.append(
            f"split: kl_marginal {_fmt(metrics.get('kl_marginal'))} (the first feature's own "
            f"shift) + kl_conditional {_fmt(metrics.get('kl_conditional'))} (the relationship)"
        )
    if feature.missing_drifted and feature.missing_reference_rate is not None:
        lines.append(
            f"missing values changed: {feature.missing_reference_rate:.1%} in the reference, "
            f"{feature.missing_rate:.1%} now (p {_fmt(feature.missing_p_adjusted, 3)})"
        )
    outside = _outside(feature)
    if outside:
        lines.append(outside)
    if feature.dispersion > 1:
        measured = {
            "reference_windows": "measured between reference windows",
            "documents": "tokens clustered in documents",
        }.get(feature.dispersion_source, feature.dispersion_source)
        lines.append(
            f"test: {feature.test}, allowing {feature.dispersion:.3g}x the variance of "
            f"independent rows ({measured})"
        )
    if feature.top_bins:
        bins = ", ".join(f"{b.bin} (+{b.contribution:.3g})" for b in feature.top_bins)
        lines.append(f"driven by: {bins}")
    if feature.unseen:
        lines.append("new values: " + ", ".join(f"{k} ({v})" for k, v in feature.unseen.items()))
    lines.append(f"details: {run_link(monitor, summary.run_id, segment)}")
    return title, "\n".join(lines)


def acknowledged_line(event: str, by: str, at: datetime | None, note: str | None) -> str:
    """The line of a message saying the alert was acknowledged, and what that means.

    >>> from datetime import UTC, datetime
    >>> acknowledged_line("escalate", "alice", datetime(2024, 6, 3, 12, tzinfo=UTC), "launch")
    'acknowledged by alice at 2024-06-03 12:00 UTC ("launch"); this notification: it escalated'
    """
    when = f" at {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if at is not None else ""
    why = f' ("{note}")' if note else ""
    now = {"escalate": "it escalated", "resolve": "it resolved"}.get(
        event, "it notifies again only when it escalates or resolves"
    )
    return f"acknowledged by {by}{when}{why}; this notification: {now}"


def _outside(feature: FeatureSummary) -> str | None:
    """The live values outside the reference range, when there are any."""
    share, low, high = feature.outside_range, feature.reference_min, feature.reference_max
    if not share or low is None or high is None:
        return None
    return (
        f"{share:.1%} of live values outside the reference range [{low:.4g}, {high:.4g}]: "
        f"{feature.below_range} below, {feature.above_range} above"
    )


def _sizes(feature: FeatureSummary) -> str:
    """Rows (documents for text) on both sides, tokens beside them, and the missing rate."""
    rows = f"rows: {feature.n_current} live vs {feature.n_reference} reference"
    if feature.tokens_current is not None and feature.tokens_reference is not None:
        rows += f" ({feature.tokens_current} vs {feature.tokens_reference} tokens)"
    return f"{rows}; missing {feature.missing_rate:.1%}"
