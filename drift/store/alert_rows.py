"""Alerts and their notifications in the results store (mixed into ResultsStore).

An alert is an incident of one monitor, feature and segment (``""``: the
whole population; ``"country=BR"``: one segment). At most one is open per
monitor, feature and segment: the open one carries ``open_key`` (unique),
cleared when it resolves. Every notification of an alert event on a channel is a row of
``drift_notification`` with a deterministic, unique key, written in the same
transaction as the state change that caused it (an outbox): a retry or a
racing run cannot create it twice, and one that was not sent is found and
sent later.

On-call actions shape delivery (issue 16): a notification recorded, or
claimed for delivery, while a snooze of its monitor or feature is in force
is kept but never sent (``suppressed_by`` names the snooze; a snooze of a
feature holds back the alerts of all its segments), and a change
decided on an alert whose acknowledgement changed since is refused like one
decided on a stale severity, so its message says who acknowledged it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from drift.alerts.types import AlertChange, RecentScore
from drift.store import tables as t
from drift.store.actions import snoozed
from drift.store.base import StoreBase
from drift.store.convert import from_db_time, new_ids, to_db_time
from drift.store.records import AlertRow

__all__ = ["AlertRows", "NotificationRow", "alert_row"]

#: The length of ``drift_alert.open_key``.
_OPEN_KEY_LIMIT = 450


@dataclass(frozen=True, slots=True)
class NotificationRow:
    """A recorded notification, sent or not."""

    key: str
    alert_id: int
    monitor: str
    feature: str
    event: str
    severity: str
    channel: str
    title: str
    body: str
    attempts: int
    sent_at: datetime | None
    last_error: str | None
    suppressed_by: int | None = None


class StaleAlertStateError(Exception):
    """The open alert changed since the decision was made; decide again."""


class AlertRows(StoreBase):
    """Alert and notification reads and writes of :class:`drift.store.ResultsStore`."""

    def open_alerts(self, monitor: str | None = None) -> list[AlertRow]:
        """Alerts in state ``open`` (of one monitor, or of all), oldest first."""
        a = t.alert
        query = sa.select(a).where(a.c.state == "open")
        if monitor is not None:
            query = query.where(a.c.monitor == monitor)
        rows = self._read(lambda c: c.execute(query.order_by(a.c.created_at, a.c.id)).all())
        return [alert_row(row) for row in rows]

    def alerts(self, monitor: str) -> list[AlertRow]:
        """Every alert of ``monitor``, open and resolved, oldest first."""
        a = t.alert
        query = sa.select(a).where(a.c.monitor == monitor).order_by(a.c.created_at, a.c.id)
        return [alert_row(row) for row in self._read(lambda c: c.execute(query).all())]

    def recent_severities(
        self,
        monitor: str,
        feature: str,
        metric: str,
        until: datetime,
        n: int,
        *,
        segment: str = "",
    ) -> list[str]:
        """The severities of ``feature`` in the ``n`` latest windows ending by ``until``.

        Newest first; only windows whose run was ``ok`` count. Of one
        ``segment`` (default the whole population).
        """
        s, r = t.score, t.run
        query = (
            sa.select(s.c.severity)
            .join(r, r.c.id == s.c.run_id)
            .where(
                s.c.monitor == monitor, s.c.feature == feature, s.c.segment == segment,
                s.c.metric == metric, s.c.window_end <= to_db_time(until),
                r.c.status != "insufficient_data",
            )
            .order_by(s.c.window_end.desc())
            .limit(n)
        )  # fmt: skip
        return [str(x) for x in self._read(lambda c: c.execute(query).scalars().all())]

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
    ) -> list[RecentScore]:
        """Severity and score of ``feature`` in the ``n`` latest windows ending by ``until``.

        Newest first; only windows whose run was ``ok`` count, as in
        :meth:`recent_severities`. The severity is that of the feature's
        ``kl`` row (always stored); the value that of its ``metric`` row
        (``value_corrected`` with ``corrected``, the bias-corrected KL), or
        ``None`` when that row or number is missing. Of one ``segment``
        (default the whole population).
        """
        s, r = t.score, t.run
        v = t.score.alias("metric_row")
        number = v.c.value_corrected if corrected else v.c.value
        query = (
            sa.select(s.c.window_end, s.c.severity, number.label("value"), s.c.missing_rate)
            .join(r, r.c.id == s.c.run_id)
            .outerjoin(
                v, sa.and_(v.c.run_id == s.c.run_id, v.c.feature == s.c.feature,
                           v.c.segment == s.c.segment, v.c.metric == metric),
            )
            .where(
                s.c.monitor == monitor, s.c.feature == feature, s.c.segment == segment,
                s.c.metric == "kl", s.c.window_end <= to_db_time(until),
                r.c.status != "insufficient_data",
            )
            .order_by(s.c.window_end.desc())
            .limit(n)
        )  # fmt: skip
        rows = self._read(lambda c: c.execute(query).all())
        return [
            RecentScore(
                window_end=from_db_time(row.window_end) or until,
                severity=str(row.severity),
                value=None if row.value is None else float(row.value),
                missing_rate=None if row.missing_rate is None else float(row.missing_rate),
            )
            for row in rows
        ]

    def alert_watermark(self, monitor: str, feature: str, segment: str = "") -> datetime | None:
        """The end of the latest window that changed an alert of ``monitor`` and ``feature``.

        In one ``segment`` (default the whole population): each segment's
        incidents follow window time on their own.

        The window of the run each of its alerts (open or resolved) was last
        touched by; ``None`` before the first alert. Incidents follow window
        time: a window older than this must not open, escalate or resolve
        one (:meth:`apply_alert_change` refuses it).
        """
        touched = _touched(monitor, feature, segment)
        query = sa.select(sa.func.max(t.run.c.window_end)).select_from(touched)
        return from_db_time(self._read(lambda c: c.execute(query).scalar()))

    def apply_alert_change(self, change: AlertChange) -> int | None:
        """Apply ``change`` and record its notifications, in one transaction.

        Returns the alert id, or ``None`` when the open alert was not in the
        state the decision expected (another run got there first), or when a
        newer window than the change's already changed this feature's alerts
        (see :meth:`alert_watermark`): nothing is written then, and the
        caller decides again.
        """

        def action(conn: sa.Connection) -> int:
            a = t.alert
            at = datetime.now(UTC)
            now = to_db_time(at)
            open_key = _open_key(change.monitor, change.feature, change.segment)
            this = t.run.alias("this_run")
            this_end = sa.select(this.c.window_end).where(this.c.id == change.run_id)
            newer = conn.execute(
                sa.select(t.run.c.id)
                .select_from(_touched(change.monitor, change.feature, change.segment))
                .where(t.run.c.window_end > this_end.scalar_subquery())
                .limit(1)
            ).first()
            if newer is not None:
                raise StaleAlertStateError
            found = conn.execute(
                sa.select(a.c.id, a.c.severity, a.c.acknowledged_at).where(a.c.open_key == open_key)
            ).first()
            if (found.severity if found else None) != change.expect_severity:
                raise StaleAlertStateError
            acknowledged = from_db_time(found.acknowledged_at) if found else None
            if acknowledged != change.expect_acknowledged_at:
                raise StaleAlertStateError  # acknowledged since: its message must say so
            if found is None:
                alert_id = new_ids(1)[0]
                conn.execute(
                    a.insert().values(
                        id=alert_id, monitor=change.monitor, feature=change.feature,
                        segment=change.segment, severity=change.severity, state="open",
                        opened_run_id=change.run_id, last_run_id=change.run_id,
                        message=change.message, open_key=open_key, created_at=now, updated_at=now,
                    )
                )  # fmt: skip
            else:
                alert_id = int(found.id)
                values: dict[str, Any] = {
                    "severity": change.severity, "last_run_id": change.run_id,
                    "message": change.message, "updated_at": now,
                }  # fmt: skip
                if change.event == "resolve":
                    values.update(state="resolved", resolved_run_id=change.run_id, open_key=None)
                conn.execute(a.update().where(a.c.id == alert_id).values(**values))
            snooze = snoozed(conn, change.monitor, change.feature, at)
            held = None if snooze is None else snooze.id
            _insert_notifications(conn, alert_id, change, now, held)
            return alert_id

        try:
            return self._write(action)
        except StaleAlertStateError:
            return None

    def pending_notifications(self, monitor: str | None = None) -> list[NotificationRow]:
        """Notifications neither sent nor held back by a snooze, oldest first."""
        n = t.notification
        query = sa.select(n).where(n.c.sent_at.is_(None), n.c.suppressed_by.is_(None))
        if monitor is not None:
            query = query.where(n.c.monitor == monitor)
        rows = self._read(lambda c: c.execute(query.order_by(n.c.created_at, n.c.key)).all())
        return [_notification_row(row) for row in rows]

    def notifications(self, monitor: str) -> list[NotificationRow]:
        """Every notification of ``monitor``, oldest first."""
        n = t.notification
        query = sa.select(n).where(n.c.monitor == monitor).order_by(n.c.created_at, n.c.key)
        return [_notification_row(row) for row in self._read(lambda c: c.execute(query).all())]

    def claim_notification(self, key: str, *, lease: timedelta = timedelta(minutes=5)) -> bool:
        """Take the right to send ``key`` for ``lease``; ``False`` if it may not be sent now.

        ``False`` when it was sent, is held by another sender, or a snooze of
        its monitor or feature is in force: then it is marked held back by
        that snooze (``suppressed_by``) and never sent.
        """
        now = datetime.now(UTC)

        def action(conn: sa.Connection) -> bool:
            n = t.notification
            unsent = (n.c.key == key, n.c.sent_at.is_(None), n.c.suppressed_by.is_(None))
            target = conn.execute(sa.select(n.c.monitor, n.c.feature).where(*unsent)).first()
            if target is None:
                return False
            snooze = snoozed(conn, target.monitor, target.feature, now)
            if snooze is not None:
                conn.execute(n.update().where(*unsent).values(suppressed_by=snooze.id))
                return False
            free = sa.or_(n.c.claimed_until.is_(None), n.c.claimed_until < to_db_time(now))
            result = conn.execute(
                n.update()
                .where(*unsent, free)
                .values(claimed_until=to_db_time(now + lease), attempts=n.c.attempts + 1)
            )
            return bool(result.rowcount)

        return self._write(action)

    def mark_notification_sent(self, key: str) -> None:
        """Record that ``key`` was delivered (and when, on its alert too)."""
        now = to_db_time(datetime.now(UTC))

        def action(conn: sa.Connection) -> None:
            n, a = t.notification, t.alert
            conn.execute(n.update().where(n.c.key == key).values(sent_at=now, claimed_until=None))
            alert_id = conn.execute(sa.select(n.c.alert_id).where(n.c.key == key)).scalar_one()
            conn.execute(a.update().where(a.c.id == alert_id).values(notified_at=now))

        self._write(action)

    def release_notification(self, key: str, error: str) -> None:
        """Give up the claim on ``key`` after a failed send, keeping the error."""

        def action(conn: sa.Connection) -> None:
            n = t.notification
            conn.execute(
                n.update().where(n.c.key == key).values(claimed_until=None, last_error=error[:2000])
            )

        self._write(action)


def _touched(monitor: str, feature: str, segment: str) -> sa.Join:
    """Alerts of one monitor, feature and segment joined to the runs that last touched them."""
    a, r = t.alert, t.run
    on = sa.and_(
        a.c.monitor == monitor,
        a.c.feature == feature,
        a.c.segment == segment,
        sa.or_(r.c.id == a.c.last_run_id, r.c.id == a.c.resolved_run_id),
    )
    return sa.join(a, r, on)


def _open_key(monitor: str, feature: str, segment: str) -> str:
    """The unique key only an open alert carries: one open alert per monitor, feature, segment.

    The whole population's key is the one before segments (``monitor\x1ffeature``),
    so alerts open across the upgrade keep theirs. A key longer than the
    column (names of up to 200 characters each) is its SHA-256 instead.
    """
    key = f"{monitor}\x1f{feature}" + (f"\x1f{segment}" if segment else "")
    if len(key) <= _OPEN_KEY_LIMIT:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _insert_notifications(
    conn: sa.Connection,
    alert_id: int,
    change: AlertChange,
    now: datetime | None,
    suppressed_by: int | None,
) -> None:
    if not change.notifications:
        return
    ids = new_ids(len(change.notifications))
    conn.execute(
        t.notification.insert(),
        [
            {
                "id": ids[i], "key": f"{alert_id}:{note.key}", "alert_id": alert_id,
                "monitor": change.monitor, "feature": change.feature, "event": change.event,
                "severity": change.severity, "channel": note.channel, "title": note.title,
                "body": note.body, "created_at": now, "attempts": 0,
                "suppressed_by": suppressed_by,
            }
            for i, note in enumerate(change.notifications)
        ],
    )  # fmt: skip


def alert_row(row: Any) -> AlertRow:
    """An ``AlertRow`` from a row of ``drift_alert``."""
    return AlertRow(
        id=int(row.id), monitor=row.monitor, feature=row.feature, severity=row.severity,
        state=row.state, opened_run_id=row.opened_run_id, last_run_id=row.last_run_id,
        resolved_run_id=row.resolved_run_id, notification_key=row.notification_key,
        notified_at=from_db_time(row.notified_at), message=row.message,
        created_at=from_db_time(row.created_at) or datetime.now(UTC),
        updated_at=from_db_time(row.updated_at) or datetime.now(UTC),
        acknowledged_by=row.acknowledged_by, acknowledged_at=from_db_time(row.acknowledged_at),
        acknowledged_note=row.acknowledged_note, resolved_reason=row.resolved_reason,
        segment=row.segment,
    )  # fmt: skip


def _notification_row(row: Any) -> NotificationRow:
    return NotificationRow(
        key=row.key, alert_id=int(row.alert_id), monitor=row.monitor, feature=row.feature,
        event=row.event, severity=row.severity, channel=row.channel, title=row.title,
        body=row.body, attempts=int(row.attempts), sent_at=from_db_time(row.sent_at),
        last_error=row.last_error,
        suppressed_by=None if row.suppressed_by is None else int(row.suppressed_by),
    )  # fmt: skip
