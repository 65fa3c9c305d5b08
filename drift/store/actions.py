"""On-call actions in the results store (mixed into ResultsStore, issue 16).

Each action is a row of ``drift_action`` (who, when, what, note), written in
the same transaction as its effect on ``drift_alert``. An action on a
feature applies to all its segments (``drift_alert.segment``): a snooze or
an accepted baseline of ``amount`` covers ``amount`` in ``country=BR`` too.

- ``acknowledge``: the open alert stays open, marked acknowledged (by whom,
  when, with the note), and so do the other open alerts of its feature (its
  segments', or the whole population's) not acknowledged yet;
- ``snooze``: a monitor, or one feature, notifies nothing until ``until``
  (runs are measured and stored as always);
- ``accept_baseline``: the range ``[range_start, range_end)`` becomes the
  reference of the feature (or of every feature); the open incidents it
  explains resolve, with the reason recorded. The next run fits its
  baseline from that range (:mod:`drift.run.baseline`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from drift.errors import ActionError
from drift.sql.instants import as_utc
from drift.store import tables as t
from drift.store.base import StoreBase
from drift.store.convert import from_db_time, new_ids, to_db_time

__all__ = ["ACTION_KINDS", "NOTE_LIMIT", "ActionRow", "Actions"]

#: The kinds of on-call action.
ACTION_KINDS = ("acknowledge", "snooze", "accept_baseline")
#: The longest note an action keeps, in characters.
NOTE_LIMIT = 2000
_ACTOR_LIMIT = 200


@dataclass(frozen=True, slots=True)
class ActionRow:
    """One on-call action, as recorded in ``drift_action``.

    Attributes
    ----------
    id : int
        The action's id.
    monitor : str
        The monitor acted on.
    feature : str or None
        The feature acted on, ``None`` for the whole monitor.
    alert_id : int or None
        The acknowledged alert (``acknowledge`` only).
    kind : str
        ``"acknowledge"``, ``"snooze"`` or ``"accept_baseline"``.
    actor : str
        Who acted (the CLI's ``--actor``, or the Airflow user's name).
    note : str
        Why, in the actor's words.
    created_at : datetime
        When (aware UTC).
    until : datetime or None
        The end of a snooze.
    range_start, range_end : datetime or None
        The accepted reference range, ``[start, end)``.
    """

    id: int
    monitor: str
    feature: str | None
    alert_id: int | None
    kind: str
    actor: str
    note: str
    created_at: datetime
    until: datetime | None
    range_start: datetime | None
    range_end: datetime | None


class Actions(StoreBase):
    """On-call action reads and writes of :class:`drift.store.ResultsStore`."""

    def acknowledge(
        self, alert_id: int, *, actor: str, note: str, now: datetime | None = None
    ) -> ActionRow:
        """Mark the open alert ``alert_id`` acknowledged by ``actor``, with ``note``.

        The acknowledgement is of the alert's feature: the other open alerts of
        that monitor and feature (its other segments, the whole population's)
        that nobody acknowledged yet are marked acknowledged with it. One
        action is recorded, naming ``alert_id``.

        Raises
        ------
        drift.errors.ActionError
            If there is no such alert, it is already resolved, or the actor
            or note is empty or too long.
        """
        at = _now(now)
        actor, note = _who(actor, note)

        def action(conn: sa.Connection) -> ActionRow:
            a = t.alert
            found = conn.execute(
                sa.select(a.c.monitor, a.c.feature, a.c.state).where(a.c.id == alert_id)
            ).first()
            if found is None:
                raise ActionError(f"no alert with id {alert_id}")
            if found.state != "open":
                raise ActionError(
                    f"alert {alert_id} is already {found.state}: nothing to acknowledge"
                )
            marks = {"acknowledged_by": actor, "acknowledged_at": to_db_time(at),
                     "acknowledged_note": note, "updated_at": to_db_time(at)}  # fmt: skip
            conn.execute(a.update().where(a.c.id == alert_id).values(**marks))
            conn.execute(
                a.update().where(
                    a.c.monitor == found.monitor, a.c.feature == found.feature,
                    a.c.state == "open", a.c.acknowledged_at.is_(None), a.c.id != alert_id,
                ).values(**marks)
            )  # fmt: skip
            return _insert(conn, kind="acknowledge", monitor=found.monitor, feature=found.feature,
                           alert_id=alert_id, actor=actor, note=note, at=at)  # fmt: skip

        return self._write(action)

    def snooze(
        self,
        monitor: str,
        *,
        feature: str | None,
        until: datetime,
        actor: str,
        note: str,
        now: datetime | None = None,
    ) -> ActionRow:
        """Silence the notifications of ``monitor`` (or one ``feature``) until ``until``.

        Raises
        ------
        drift.errors.ActionError
            If the monitor or feature is unknown, ``until`` is not after
            now, or the actor or note is empty or too long.
        """
        at = _now(now)
        actor, note = _who(actor, note)
        end = _aware(until, "until")
        if end <= at:
            raise ActionError(
                f"snooze until {end.isoformat()} is not in the future (now {at.isoformat()})"
            )

        def action(conn: sa.Connection) -> ActionRow:
            _check_target(conn, monitor, feature)
            return _insert(conn, kind="snooze", monitor=monitor, feature=feature, actor=actor,
                           note=note, at=at, until=end)  # fmt: skip

        return self._write(action)

    def accept_baseline(
        self,
        monitor: str,
        *,
        feature: str | None,
        start: datetime,
        end: datetime,
        actor: str,
        note: str,
        now: datetime | None = None,
    ) -> ActionRow:
        """Accept ``[start, end)`` as the new reference of ``monitor`` (or one ``feature``).

        The open alerts it explains (the feature's, or every feature's)
        resolve now, their reason naming the action. The next run of the
        monitor fits its baseline from that range, as a fixed reference.

        Raises
        ------
        drift.errors.ActionError
            If the monitor or feature is unknown, the range is empty or
            reversed, or the actor or note is empty or too long.
        """
        at = _now(now)
        actor, note = _who(actor, note)
        lo, hi = _aware(start, "start"), _aware(end, "end")
        if hi <= lo:
            raise ActionError(
                f"baseline range is empty or reversed: start {lo.isoformat()} is not before "
                f"end {hi.isoformat()}"
            )

        def action(conn: sa.Connection) -> ActionRow:
            _check_target(conn, monitor, feature)
            row = _insert(conn, kind="accept_baseline", monitor=monitor, feature=feature,
                          actor=actor, note=note, at=at, range_start=lo, range_end=hi)  # fmt: skip
            a = t.alert
            which = [a.c.monitor == monitor, a.c.state == "open"]
            if feature is not None:
                which.append(a.c.feature == feature)
            reason = (
                f"new baseline accepted by {actor} at {at.isoformat(timespec='seconds')} "
                f"({lo.isoformat()} to {hi.isoformat()}): {note}"
            )
            conn.execute(
                a.update().where(*which).values(
                    state="resolved", open_key=None, resolved_reason=reason[:NOTE_LIMIT + 400],
                    updated_at=to_db_time(at),
                )
            )  # fmt: skip
            return row

        return self._write(action)

    def actions(self, monitor: str, *, limit: int = 100) -> list[ActionRow]:
        """The latest ``limit`` actions on ``monitor``, newest first."""
        x = t.action
        query = (
            sa.select(x).where(x.c.monitor == monitor)
            .order_by(x.c.created_at.desc(), x.c.id.desc()).limit(limit)
        )  # fmt: skip
        return [action_row(row) for row in self._read(lambda c: c.execute(query).all())]

    def active_snoozes(self, monitor: str, *, at: datetime | None = None) -> list[ActionRow]:
        """The snoozes of ``monitor`` in force at ``at`` (default now), latest end first."""
        when = to_db_time(_now(at))
        x = t.action
        query = (
            sa.select(x)
            .where(x.c.monitor == monitor, x.c.kind == "snooze", x.c.until > when,
                   x.c.created_at <= when)
            .order_by(x.c.until.desc(), x.c.id.desc())
        )  # fmt: skip
        return [action_row(row) for row in self._read(lambda c: c.execute(query).all())]

    def accepted_baselines(self, monitor: str) -> list[ActionRow]:
        """Every ``accept_baseline`` action of ``monitor``, newest first."""
        x = t.action
        query = (
            sa.select(x).where(x.c.monitor == monitor, x.c.kind == "accept_baseline")
            .order_by(x.c.created_at.desc(), x.c.id.desc())
        )  # fmt: skip
        return [action_row(row) for row in self._read(lambda c: c.execute(query).all())]


def snoozed(conn: sa.Connection, monitor: str, feature: str, at: datetime) -> ActionRow | None:
    """The snooze of ``monitor``/``feature`` in force at ``at``, read in ``conn``'s transaction."""
    x = t.action
    when = to_db_time(at)
    row = conn.execute(
        sa.select(x)
        .where(x.c.monitor == monitor, x.c.kind == "snooze", x.c.until > when,
               x.c.created_at <= when, sa.or_(x.c.feature.is_(None), x.c.feature == feature))
        .order_by(x.c.until.desc()).limit(1)
    ).first()  # fmt: skip
    return None if row is None else action_row(row)


def action_row(row: Any) -> ActionRow:
    """An ``ActionRow`` from a row of ``drift_action``."""
    return ActionRow(
        id=int(row.id), monitor=row.monitor, feature=row.feature,
        alert_id=None if row.alert_id is None else int(row.alert_id), kind=row.kind,
        actor=row.actor, note=row.note,
        created_at=from_db_time(row.created_at) or datetime.now(UTC),
        until=from_db_time(row.until), range_start=from_db_time(row.range_start),
        range_end=from_db_time(row.range_end),
    )  # fmt: skip


def _insert(conn: sa.Connection, *, kind: str, monitor: str, feature: str | None, actor: str,
            note: str, at: datetime, alert_id: int | None = None, until: datetime | None = None,
            range_start: datetime | None = None, range_end: datetime | None = None
) -> ActionRow:  # fmt: skip
    row = ActionRow(
        id=new_ids(1)[0], monitor=monitor, feature=feature, alert_id=alert_id, kind=kind,
        actor=actor, note=note, created_at=at, until=until, range_start=range_start,
        range_end=range_end,
    )  # fmt: skip
    conn.execute(
        t.action.insert().values(
            id=row.id, monitor=monitor, feature=feature, alert_id=alert_id, kind=kind, actor=actor,
            note=note, created_at=to_db_time(at), until=to_db_time(until),
            range_start=to_db_time(range_start), range_end=to_db_time(range_end),
        )
    )  # fmt: skip
    return row


def _check_target(conn: sa.Connection, monitor: str, feature: str | None) -> None:
    known = conn.execute(sa.select(t.monitor.c.id).where(t.monitor.c.name == monitor)).first()
    if known is None:
        known = conn.execute(
            sa.select(t.run.c.id).where(t.run.c.monitor == monitor).limit(1)
        ).first()
    if known is None:
        raise ActionError(f"unknown monitor {monitor!r}: it has no results in this store")
    if feature is None:
        return
    b, s = t.baseline, t.score
    seen = conn.execute(
        sa.select(b.c.id).where(b.c.monitor == monitor, b.c.feature == feature).limit(1)
    ).first() or conn.execute(
        sa.select(s.c.id).where(s.c.monitor == monitor, s.c.feature == feature).limit(1)
    ).first()  # fmt: skip
    if seen is None:
        raise ActionError(f"monitor {monitor!r} has no feature {feature!r}")


def _who(actor: str, note: str) -> tuple[str, str]:
    actor, note = (actor or "").strip(), (note or "").strip()
    if not actor:
        raise ActionError("actor is empty: say who acts (--actor)")
    if len(actor) > _ACTOR_LIMIT:
        raise ActionError(
            f"actor is {len(actor)} characters long, over the limit of {_ACTOR_LIMIT}"
        )
    if not note:
        raise ActionError("note is empty: say why (--note)")
    if len(note) > NOTE_LIMIT:
        raise ActionError(f"note is {len(note)} characters long, over the limit of {NOTE_LIMIT}")
    return actor, note


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ActionError(f"{name} must be a datetime, not {type(value).__name__}")
    return as_utc(value)


def _now(now: datetime | None) -> datetime:
    return datetime.now(UTC) if now is None else _aware(now, "now")
