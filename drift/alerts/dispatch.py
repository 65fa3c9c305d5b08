"""One window's alerts: decide incident events, record them with their notifications, deliver.

Exactly once: every notification is recorded, under a deterministic key, in
the same transaction as the alert change that causes it, and a decision
taken on stale state is refused and taken again. Delivery then claims each
unsent notification before sending it and marks it sent after; one that
fails keeps its error and is sent by a later run. So a retried task, a
re-run window or two runs racing on one window never notify twice (the one
remaining gap, a crash between a channel accepting a message and the store
recording it, can repeat that single message; it cannot lose one).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from drift.alerts.channels import Sender, channel_refs, send
from drift.alerts.messages import alert_message
from drift.alerts.policy import RANK, decide
from drift.config import MonitorConfig, ThresholdsConfig
from drift.errors import AlertError
from drift.store import ResultsStore
from drift.store.alert_rows import AlertChange, OutgoingNotification

__all__ = ["deliver_pending", "dispatch_alerts", "record_alerts"]

log = logging.getLogger("drift.alerts")
_ATTEMPTS = 3


def _notifications(
    monitor: MonitorConfig, event: str, severity: str, previous: str | None, title: str, body: str
) -> tuple[OutgoingNotification, ...]:
    if event not in ("open", "escalate", "resolve"):
        return ()
    level = previous if event == "resolve" else severity
    return tuple(
        OutgoingNotification(f"{event}:{severity}:{i}", ref, title, body)
        for i, (ref, channel) in enumerate(channel_refs(monitor))
        if level is not None and RANK[level] >= RANK[channel.min_severity]
    )


def _one_feature(
    monitor: MonitorConfig,
    summary: dict[str, Any],
    feature: dict[str, Any],
    store: ResultsStore,
    notify: bool,
) -> dict[str, Any] | None:
    t = _feature_thresholds(monitor, feature["feature"])
    level = feature["severity"] if feature.get("enough_data", True) else None
    depth = max(t.consecutive, t.resolve_after)
    for _ in range(_ATTEMPTS):
        current = {a.feature: a for a in store.open_alerts(monitor.name)}.get(feature["feature"])
        previous = current.severity if current else None
        recent = store.recent_severities(
            monitor.name, feature["feature"], "kl", _end(summary), depth
        )
        decision = decide(
            level, previous, recent, consecutive=t.consecutive, resolve_after=t.resolve_after
        )
        if decision is None:
            return None
        thresholds = {"warn": t.warn, "critical": t.critical}
        title, body = alert_message(decision.event, decision.severity, summary, feature, thresholds)
        notes = _notifications(monitor, decision.event, decision.severity, previous, title, body)
        change = AlertChange(
            monitor.name, feature["feature"], decision.event, decision.severity,
            int(summary["run_id"]), body, previous, notes if notify else (),
        )  # fmt: skip
        if store.apply_alert_change(change) is not None:
            if decision.event != "update":
                log.warning("%s\n%s", title, body)
            return {"feature": feature["feature"], "event": decision.event,
                    "severity": decision.severity}  # fmt: skip
    log.warning("alert state of %s.%s kept changing; left for the next run",
                monitor.name, feature["feature"])  # fmt: skip
    return None


def _feature_thresholds(monitor: MonitorConfig, name: str) -> ThresholdsConfig:
    for f in monitor.features or ():
        if f.name == name and f.thresholds is not None:
            return f.thresholds
    return monitor.thresholds


def _end(summary: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(summary["window_end"])


def deliver_pending(
    monitor: MonitorConfig, store: ResultsStore, *, senders: Mapping[str, Sender] | None = None
) -> tuple[int, int]:
    """Send every unsent notification of ``monitor``; returns (sent, failed).

    A channel that fails is logged with its error and does not stop the
    others; its notification stays pending for the next run.
    """
    channels = dict(channel_refs(monitor))
    sent = failed = 0
    for note in store.pending_notifications(monitor.name):
        channel = channels.get(note.channel)
        if channel is None:
            continue  # the channel was removed from the monitor; nothing to send it to
        if not store.claim_notification(note.key):
            continue
        try:
            send(channel, note.title, note.body, senders=senders)
        except (AlertError, OSError) as exc:
            failed += 1
            store.release_notification(note.key, f"{type(exc).__name__}: {exc}")
            log.error("alert channel %s failed for %s: %s", note.channel, note.key, exc)
            continue
        store.mark_notification_sent(note.key)
        sent += 1
    return sent, failed


def dispatch_alerts(
    monitor: MonitorConfig,
    summary: dict[str, Any],
    *,
    store: ResultsStore,
    notify: bool = True,
    senders: Mapping[str, Sender] | None = None,
) -> dict[str, Any]:
    """Update the monitor's incidents from one window and send what is due.

    Parameters
    ----------
    monitor : MonitorConfig
    summary : dict
        ``WindowResult.summary()`` of the window (after it was stored).
    store : ResultsStore
    notify : bool, optional
        ``False`` records incidents without notifications (backfills of
        history should not page anyone).
    senders : mapping, optional
        Extra channel senders (the Airflow layer adds Airflow's notifiers).

    Returns
    -------
    dict
        ``{"events": [...], "sent": int, "failed": int}``.
    """
    events = record_alerts(monitor, summary, store=store, notify=notify)
    sent, failed = deliver_pending(monitor, store, senders=senders) if notify else (0, 0)
    return {"events": events, "sent": sent, "failed": failed}


def record_alerts(
    monitor: MonitorConfig, summary: dict[str, Any], *, store: ResultsStore, notify: bool = True
) -> list[dict[str, Any]]:
    """Decide and record one window's incident events and their notifications (no sending).

    Returns the events, one dict per feature whose incident changed or stayed open.
    """
    events = []
    if summary.get("run_id") is not None:
        for feature in summary["features"]:
            event = _one_feature(monitor, summary, feature, store, notify)
            if event is not None:
                events.append(event)
    return events
