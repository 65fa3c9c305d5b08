"""Alerts: the threshold policy, incidents (open, escalate, resolve) and channels."""

from drift.alerts.dispatch import deliver_pending, dispatch_alerts, record_alerts
from drift.alerts.policy import Decision, decide

__all__ = ["Decision", "decide", "deliver_pending", "dispatch_alerts", "record_alerts"]
