"""On-call actions from the dashboard: who may act, CSRF tokens, and what an action changes.

Shared by the confirm forms (:mod:`drift.dashboard.actions`) and the JSON API
(:mod:`drift.dashboard.api_actions`). A request acting on a monitor passes,
in this order: the monitor is readable and stored (else the 404 of a
monitor not stored), the viewer may edit it (else 403), the request is not
cross-site (else 403, see :func:`check_csrf`); then the store API decides,
and its :class:`~drift.errors.ActionError` is a 422 with the store unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from drift.config.durations import parse_duration
from drift.dashboard import data
from drift.dashboard.access import StandaloneToken, Viewer
from drift.dashboard.api import ReadableMonitor, Store, get_access
from drift.dashboard.schemas import ActionOut
from drift.errors import ActionError
from drift.sql.instants import as_utc
from drift.store import ActionRow, AlertRow, ResultsStore

__all__ = [
    "CROSS_SITE",
    "KINDS",
    "Editor",
    "acknowledged_with",
    "action_out",
    "check_csrf",
    "check_origin",
    "csrf_token",
    "default_range",
    "describe_accept",
    "describe_acknowledge",
    "describe_snooze",
    "editor",
    "find_alert",
    "parse_time",
    "resolved_by",
    "snooze_end",
    "stored_monitor",
]

#: The actions, as they appear in paths (``/monitors/{name}/confirm/{kind}``) and CSRF tokens.
KINDS = ("acknowledge", "snooze", "accept-baseline")
#: The 403 text of a request that may come from another site.
CROSS_SITE = "cross-site request refused: reload the page and try again"


def csrf_token(secret: bytes, session: str, monitor: str, kind: str) -> str:
    """The token a form posted with ``session`` must carry to act ``kind`` on ``monitor``.

    Parameters
    ----------
    secret : bytes
        The app's key (``app.state.secret``).
    session : str
        The viewer's :attr:`~drift.dashboard.access.Viewer.session`.
    monitor, kind : str
        What the form acts on, and how (one of :data:`KINDS`).

    Returns
    -------
    str
        HMAC-SHA256 of the three, NUL-separated, in hex.

    Examples
    --------
    >>> len(csrf_token(b"k", "cookie", "orders", "snooze"))
    64
    >>> csrf_token(b"k", "a", "b", "snooze") == csrf_token(b"k", "ab", "", "snooze")
    False
    """
    message = "\0".join((session, monitor, kind)).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def stored_monitor(store: Store, name: ReadableMonitor) -> str:
    """The path's monitor, readable by the viewer and stored; else the 404 of one not stored."""
    if store.monitor_config(name) is None:
        raise data.NotFoundError(data.no_monitor(name))
    return name


def editor(request: Request, name: Annotated[str, Depends(stored_monitor)]) -> Viewer:
    """The viewer, if they may act on the path's monitor (404 if unreadable, else 403)."""
    access = get_access(request)
    viewer = access.viewer(request)
    if viewer is None or not access.may_edit(request, name):
        who = "an anonymous viewer" if viewer is None else viewer.name
        hint = ""
        if viewer is None:
            hint = (
                " (enter the dashboard token first)"
                if isinstance(access, StandaloneToken)
                else " (this dashboard is read-only: it was started without actions)"
            )
        raise HTTPException(
            403,
            f"{who} may read monitor {name!r} but not act on it: acknowledging, snoozing "
            f"and accepting a baseline need the right to edit it{hint}",
        )
    return viewer


#: The viewer acting on the path's monitor (see :func:`editor`).
Editor = Annotated[Viewer, Depends(editor)]


def check_origin(request: Request) -> None:
    """Refuse (403) a request whose ``Origin`` header names another host than its own."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "").lower()
    if not host or urlsplit(origin).netloc.lower() != host:
        raise HTTPException(403, CROSS_SITE)


def check_csrf(
    request: Request, viewer: Viewer, monitor: str, kind: str, given: str | None
) -> None:
    """Refuse (403) a post that may come from another site.

    A request from another origin is refused; one authenticated by a
    credential the browser sends by itself (``viewer.session``) must carry
    :func:`csrf_token` as ``given``. Header-authenticated requests need none.
    """
    check_origin(request)
    if viewer.session is None:
        return
    expected = csrf_token(request.app.state.secret, viewer.session, monitor, kind)
    if not given or not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
        raise HTTPException(403, CROSS_SITE)


def find_alert(store: ResultsStore, monitor: str, alert_id: int) -> AlertRow:
    """Alert ``alert_id`` of ``monitor`` (open or resolved); a 404 if ``monitor`` has none so."""
    for alert in store.alerts(monitor):
        if alert.id == alert_id:
            return alert
    raise data.NotFoundError(f"monitor {monitor!r} has no alert with id {alert_id}")


def parse_time(text: str, name: str) -> datetime:
    """An ISO 8601 time from a form field (UTC unless a zone is given).

    Raises
    ------
    drift.errors.ActionError
        If ``text`` is empty or not a time.
    """
    text = text.strip()
    if not text:
        raise ActionError(f"{name} is empty: give a time such as 2024-06-01T00:00")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ActionError(f"{name} {text!r} is not a time such as 2024-06-01T00:00") from None
    return as_utc(value)


def snooze_end(duration: str | None, until: datetime | None, now: datetime) -> datetime:
    """The end of a snooze given as a duration from ``now`` (``"4h"``) or as a time.

    Raises
    ------
    drift.errors.ActionError
        If neither or both are given, or the duration is not one.
    """
    if (duration is None or not duration.strip()) == (until is None):
        raise ActionError(
            "give the snooze a duration (such as 4h or 1d) or an until time, not both"
        )
    if until is not None:
        return as_utc(until)
    assert duration is not None
    try:
        return now + parse_duration(duration)
    except ValueError as exc:
        raise ActionError(f"snooze duration: {exc}") from None


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _day(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d") if value.time() == datetime.min.time() else _when(value)


def _target(monitor: str, feature: str | None) -> str:
    return f"{monitor} (every feature)" if feature is None else f"{monitor}.{feature}"


def _alert_name(alert: AlertRow) -> str:
    return alert.feature + (f" in {alert.segment}" if alert.segment else "")


def describe_acknowledge(
    alert: AlertRow, opened: datetime | None = None, also: Sequence[AlertRow] = ()
) -> str:
    """``Acknowledge alert #12: orders.amount, warn, open since 2024-06-01 00:00 UTC``.

    ``opened`` is the start of the window that opened the alert, when known;
    the time it was recorded is named too when it differs (a backfill).
    ``also``: the feature's other open alerts (its segments') that the
    acknowledgement covers too (:meth:`drift.store.ResultsStore.acknowledge`).
    """
    since = _when(opened if opened is not None else alert.created_at)
    if opened is not None and _when(alert.created_at) != since:
        since += f" (recorded {_when(alert.created_at)})"
    text = (
        f"Acknowledge alert #{alert.id}: {alert.monitor}.{_alert_name(alert)}, {alert.severity}, "
        f"{alert.state} since {since}"
    )
    if also:
        listed = ", ".join(f"#{a.id} {_alert_name(a)} ({a.severity})" for a in also)
        text += f"; with the other open alert{'s' if len(also) > 1 else ''} of "
        text += f"{alert.feature}: {listed}"
    return text


def acknowledged_with(store: ResultsStore, alert: AlertRow) -> list[AlertRow]:
    """The other open alerts of ``alert``'s feature, not yet acknowledged, it covers too."""
    return [
        a for a in store.open_alerts(alert.monitor)
        if a.feature == alert.feature and a.id != alert.id and a.acknowledged_at is None
    ]  # fmt: skip


def describe_snooze(monitor: str, feature: str | None, until: datetime) -> str:
    """``Snooze notifications of orders (every feature) until 2026-12-03 17:00 UTC``."""
    return f"Snooze notifications of {_target(monitor, feature)} until {_when(until)}"


def resolved_by(store: ResultsStore, monitor: str, feature: str | None) -> list[AlertRow]:
    """The open alerts that accepting a baseline of ``monitor`` (or ``feature``) resolves."""
    return [a for a in store.open_alerts(monitor) if feature is None or a.feature == feature]


def describe_accept(
    monitor: str, feature: str | None, start: datetime, end: datetime, resolves: list[AlertRow]
) -> str:
    """``Accept 2024-06-01 → 2024-06-08 as the new baseline of orders.amount; resolves ...``."""
    if resolves:
        listed = ", ".join(f"#{a.id} {_alert_name(a)} ({a.severity})" for a in resolves)
        plural = "s" if len(resolves) > 1 else ""
        effect = f"resolves {len(resolves)} open alert{plural}: {listed}"
    else:
        effect = "resolves no open alert"
    return (
        f"Accept {_day(start)} → {_day(end)} as the new baseline of "
        f"{_target(monitor, feature)}; {effect}"
    )


def default_range(
    store: ResultsStore, monitor: str, alerts: list[AlertRow], now: datetime
) -> tuple[datetime, datetime]:
    """The range proposed as a new baseline: from the alerts' opening window start to now."""
    starts = []
    for alert in alerts:
        run = store.run(alert.opened_run_id) if alert.opened_run_id is not None else None
        if run is not None:
            starts.append(run.window_start)
    if not starts:
        every = store.runs(monitor)
        starts.append(every[-1].window_start if every else now - timedelta(days=7))
    return min(starts), now


def action_out(row: ActionRow) -> ActionOut:
    """The API's view of a stored action."""
    return ActionOut(
        id=row.id, monitor=row.monitor, feature=row.feature, alert_id=row.alert_id,
        kind=row.kind, actor=row.actor, note=row.note, created_at=row.created_at,
        until=row.until, range_start=row.range_start, range_end=row.range_end,
    )  # fmt: skip
