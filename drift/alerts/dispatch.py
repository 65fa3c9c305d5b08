"""One window's alerts: decide incident events, record them with their notifications, deliver.

Exactly once: every notification is recorded, under a deterministic key, in
the same transaction as the alert change that causes it, and a decision
taken on stale state is refused and taken again. Delivery then claims each
unsent notification before sending it and marks it sent after; one that
fails keeps its error and is sent by a later run. So a retried task, a
re-run window or two runs racing on one window never notify twice (the one
remaining gap, a crash between a channel accepting a message and the store
recording it, can repeat that single message; it cannot lose one).

An incident is per monitor, feature and segment: a feature scored in
segments (``country=BR``) has one incident per segment beside the whole
population's, each with its own history, and a message naming the segment
(:func:`drift.alerts.messages.alert_message`).

Incidents follow window time. A window may open, escalate or resolve a
feature's incident only if it is not older than the window that last
changed one of that feature's alerts (in the same segment) (the watermark,
``store.alert_watermark``: the window end of the alerts' last or resolving
run). An older window, such as a backfill of history behind an open
incident, is stored by the caller as always but changes no incident; the
same window again (an equal window end) is decided again, to the same
result and without a second notification. ``apply_alert_change`` checks the
watermark again in its transaction, so a racing newer run wins.

The level a window counts at (:func:`alert_level`) is the feature's
severity, raised to at least ``warn`` when its missing rate changed
significantly (``missing_drifted``). The history the policy reads is the
stored severity and score of earlier windows (``store.recent_scores``), an
earlier window counting as ``warn`` too when its stored missing rate is at
least ``missing_effect`` from this window's reference rate, so that a
missing-rate incident opens and resolves under the same ``consecutive`` and
``resolve_after`` rules as any other. Hysteresis: see
:func:`drift.alerts.policy.decide`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from drift.alerts.channels import Sender, channel_refs, send
from drift.alerts.messages import acknowledged_line, alert_message, subject
from drift.alerts.policy import RANK, decide
from drift.alerts.types import (
    AlertChange,
    AlertStore,
    FeatureSummary,
    OutgoingNotification,
    RecentScore,
    WindowSummary,
)
from drift.config import MonitorConfig, ThresholdsConfig
from drift.errors import AlertError

__all__ = ["alert_level", "deliver_pending", "dispatch_alerts", "record_alerts"]

log = logging.getLogger("drift.alerts")
_ATTEMPTS = 3


def _notifications(
    monitor: MonitorConfig,
    event: str,
    severity: str,
    previous: str | None,
    title: str,
    body: str,
    segment: str = "",
) -> tuple[OutgoingNotification, ...]:
    """The notifications of one event, keyed ``event:severity:channel[:segment]``.

    The store prefixes the alert's id; the whole population's keys are those
    before segments, so a window retried across an upgrade notifies once.
    """
    if event not in ("open", "escalate", "resolve"):
        return ()
    level = previous if event == "resolve" else severity
    tail = f":{segment}" if segment else ""
    return tuple(
        OutgoingNotification(f"{event}:{severity}:{i}{tail}", ref, title, body)
        for i, (ref, channel) in enumerate(channel_refs(monitor))
        if level is not None and RANK[level] >= RANK[channel.min_severity]
    )


def _one_feature(
    monitor: MonitorConfig,
    summary: WindowSummary,
    feature: FeatureSummary,
    store: AlertStore,
    notify: bool,
) -> dict[str, Any] | None:
    t = monitor.thresholds_for(feature.feature)
    level = alert_level(feature)
    if level is None:
        return None
    depth = max(t.consecutive, t.resolve_after)
    corrected = t.metric == "kl" and t.bias_corrected
    name, segment = feature.feature, feature.segment
    who = subject(monitor.name, name, segment)
    for _ in range(_ATTEMPTS):
        mark = store.alert_watermark(monitor.name, name, segment)
        if mark is not None and summary.window_end < mark:
            log.info("%s: window ending %s is older than the one ending %s that last "
                     "changed its alert; incidents left as they are",
                     who, summary.window_end, mark)  # fmt: skip
            return None
        current = next(
            (
                a
                for a in store.open_alerts(monitor.name)
                if (a.feature, a.segment) == (name, segment)
            ),
            None,
        )
        previous = current.severity if current else None
        recent = _history(
            store.recent_scores(monitor.name, name, t.metric, summary.window_end, depth,
                                corrected=corrected, segment=segment),
            summary, feature, level, t,
        )  # fmt: skip
        decision = decide(
            level, previous, [r.severity for r in recent], consecutive=t.consecutive,
            resolve_after=t.resolve_after, values=[r.value for r in recent],
            resolve_below=t.resolve_ratio * t.warn,
        )  # fmt: skip
        if decision is None:
            return None
        thresholds = {"warn": t.warn, "critical": t.critical}
        title, body = alert_message(decision.event, decision.severity, summary, feature, thresholds)
        acked = current.acknowledged_at if current is not None else None
        if current is not None and current.acknowledged_by:
            body += "\n" + acknowledged_line(decision.event, current.acknowledged_by, acked,
                                              current.acknowledged_note)  # fmt: skip
        notes = _notifications(
            monitor, decision.event, decision.severity, previous, title, body, segment
        )
        change = AlertChange(
            monitor.name, name, decision.event, decision.severity, _run_id(summary), body,
            previous, notes if notify else (), acked, segment=segment,
        )  # fmt: skip
        if store.apply_alert_change(change) is not None:
            if decision.event != "update":
                log.warning("%s\n%s", title, body)
            return {"feature": name, "segment": segment, "event": decision.event,
                    "severity": decision.severity}  # fmt: skip
    log.warning("alert state of %s kept changing; left for the next run", who)
    return None


def alert_level(feature: FeatureSummary) -> str | None:
    """The severity a feature's window counts at for its alert; ``None`` if not judged.

    Its severity, raised to at least ``warn`` when its missing rate changed
    significantly (``missing_drifted``).

    >>> from drift.alerts.types import FeatureSummary
    >>> f = FeatureSummary("x", "numeric", "ok", False, True, {}, 0.5, 0.5, 100, 1000, 0.3,
    ...                    missing_drifted=True)
    >>> alert_level(f)
    'warn'
    """
    if not feature.enough_data:
        return None
    if feature.missing_drifted and RANK[feature.severity] < RANK["warn"]:
        return "warn"
    return feature.severity


def _history(
    stored: Sequence[RecentScore],
    summary: WindowSummary,
    feature: FeatureSummary,
    level: str,
    t: ThresholdsConfig,
) -> list[RecentScore]:
    """The recent windows newest first, as the policy reads them (see :func:`record_alerts`).

    This window counts at ``level`` (its missing-rate verdict included).
    Stored severities are the distribution's alone, so an earlier window
    whose live missing rate is at least ``missing_effect`` away from this
    window's reference rate counts as ``warn`` too: a missing-rate incident
    needs ``resolve_after`` windows with the rate back, as any other.
    """
    depth = max(t.consecutive, t.resolve_after)
    mine = [r for r in stored if r.window_end == summary.window_end]
    value = mine[0].value if mine else None
    older = [_missing_lifted(r, feature.missing_reference_rate, t.missing_effect)
             for r in stored if r.window_end < summary.window_end]  # fmt: skip
    return [RecentScore(summary.window_end, level, value, feature.missing_rate), *older][:depth]


def _missing_lifted(r: RecentScore, reference_rate: float | None, effect: float) -> RecentScore:
    if reference_rate is None or r.missing_rate is None or RANK[r.severity] >= RANK["warn"]:
        return r
    if effect > 0 and abs(r.missing_rate - reference_rate) >= effect:
        return replace(r, severity="warn")
    return r


def _run_id(summary: WindowSummary) -> int:
    if summary.run_id is None:
        raise ValueError(f"window {summary.window_start} of {summary.monitor} was not stored")
    return summary.run_id


def deliver_pending(
    monitor: MonitorConfig, store: AlertStore, *, senders: Mapping[str, Sender] | None = None
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
    summary: WindowSummary,
    *,
    store: AlertStore,
    notify: bool = True,
    senders: Mapping[str, Sender] | None = None,
) -> dict[str, Any]:
    """Update the monitor's incidents from one window and send what is due.

    Parameters
    ----------
    monitor : MonitorConfig
    summary : WindowSummary
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
    monitor: MonitorConfig, summary: WindowSummary, *, store: AlertStore, notify: bool = True
) -> list[dict[str, Any]]:
    """Decide and record one window's incident events and their notifications (no sending).

    Returns the events, one dict per feature and segment whose incident
    changed or stayed open (``{"feature", "segment", "event", "severity"}``).
    """
    events = []
    if summary.run_id is not None:
        for feature in summary.features:
            event = _one_feature(monitor, summary, feature, store, notify)
            if event is not None:
                events.append(event)
    return events
