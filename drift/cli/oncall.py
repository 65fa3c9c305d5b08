"""The on-call commands of ``drift``: list alerts, acknowledge, snooze, accept a baseline.

Same effect as the dashboard's actions (issue 16): both call the store API of
:mod:`drift.store.actions`, which refuses a bad action with an
:class:`drift.errors.ActionError` naming what is wrong (``drift: error: ...``,
exit 1). Each action prints one line saying what changed.

Nothing heavy at the top: ``drift --help`` must not import SQLAlchemy
(tests/test_cli_startup.py); each handler imports what it needs. The shared
options come from :mod:`drift.cli.main` as arguments of :func:`register`
(importing that module here would be an import cycle).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drift.store import ResultsStore
    from drift.store.actions import ActionRow
    from drift.store.records import AlertRow

__all__ = ["default_actor", "register"]

StoreFor = Callable[[argparse.Namespace], "ResultsStore"]

_ACTOR_HELP = "who acts, recorded with the action (default: $DRIFT_ACTOR, else $USER@hostname)"
_NOTE_HELP = "why, in your words (required, not empty)"
_FEATURE_HELP = "only this feature (default: every feature of the monitor)"


def default_actor() -> str:
    """The actor of an action without ``--actor``: ``$DRIFT_ACTOR``, else ``$USER@hostname``.

    Returns
    -------
    str
        ``DRIFT_ACTOR`` when set and not blank, else the login name (``USER``,
        else the system's) at the host name.
    """
    named = os.environ.get("DRIFT_ACTOR", "").strip()
    if named:
        return named
    user = os.environ.get("USER", "").strip()
    if not user:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no login name (a container's uid without a passwd entry)
            user = "unknown"
    return f"{user}@{socket.gethostname()}"


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    url_option: Callable[[argparse.ArgumentParser], None],
    instant: Callable[[str], datetime],
    store_for: StoreFor,
) -> None:
    """Add ``drift alerts ...`` and ``drift baseline accept`` to the ``drift`` parser.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subcommands of the ``drift`` parser.
    url_option : callable
        Adds the results-store option (``--url``) to a parser.
    instant : callable
        Parses an ISO-8601 instant (UTC when naive), as an argparse ``type``.
    store_for : callable
        The results store the parsed arguments name.
    """
    alerts = commands.add_parser("alerts", help="list, acknowledge and snooze alerts")
    alert_commands = alerts.add_subparsers(
        dest="alerts_command", required=True, metavar="ALERTS_COMMAND"
    )
    listing = alert_commands.add_parser(
        "list", help="open alerts (--all: resolved ones too) and the snoozes in force"
    )
    listing.add_argument("monitor", nargs="?", help="only this monitor (default: every monitor)")
    listing.add_argument("--all", action="store_true", help="resolved alerts too")
    listing.add_argument(
        "--format", choices=("table", "json"), default="table",
        help="output: one line per alert (default) or JSON",
    )  # fmt: skip
    url_option(listing)
    listing.set_defaults(handler=partial(_list, store_for))

    ack = alert_commands.add_parser("ack", help="acknowledge an open alert (it stays open)")
    ack.add_argument("alert_id", type=int, help="the alert's id (see drift alerts list)")
    ack.add_argument("--note", required=True, help=_NOTE_HELP)
    ack.add_argument("--actor", help=_ACTOR_HELP)
    url_option(ack)
    ack.set_defaults(handler=partial(_ack, store_for))

    snooze = alert_commands.add_parser(
        "snooze", help="silence the notifications of a monitor (or one feature) for a while"
    )
    snooze.add_argument("monitor", help="the monitor's name")
    snooze.add_argument("--feature", help=_FEATURE_HELP)
    snooze.add_argument(
        "--for", dest="duration", required=True,
        help="how long, from now: a whole number and s, m, h, d or w (30m, 2h, 2d, 1w)",
    )  # fmt: skip
    snooze.add_argument("--note", required=True, help=_NOTE_HELP)
    snooze.add_argument("--actor", help=_ACTOR_HELP)
    url_option(snooze)
    snooze.set_defaults(handler=partial(_snooze, store_for))

    baseline = commands.add_parser("baseline", help="change the reference of a monitor")
    baseline_commands = baseline.add_subparsers(
        dest="baseline_command", required=True, metavar="BASELINE_COMMAND"
    )
    accept = baseline_commands.add_parser(
        "accept",
        help="accept a range as the new reference; resolves the open alerts it explains",
    )
    accept.add_argument("monitor", help="the monitor's name")
    accept.add_argument("--feature", help=_FEATURE_HELP)
    accept.add_argument(
        "--start", type=instant, required=True, help="range start, ISO-8601 (UTC when naive)"
    )
    accept.add_argument(
        "--end", type=instant, required=True,
        help="range end (excluded), ISO-8601 (UTC when naive)",
    )  # fmt: skip
    accept.add_argument("--note", required=True, help=_NOTE_HELP)
    accept.add_argument("--actor", help=_ACTOR_HELP)
    url_option(accept)
    accept.set_defaults(handler=partial(_accept, store_for))


def _when(value: datetime | None) -> str:
    return "-" if value is None else f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _target(monitor: str, feature: str | None) -> str:
    return f"{monitor}.{feature}" if feature else f"{monitor} (every feature)"


def _actor(args: argparse.Namespace) -> str:
    given: str | None = args.actor
    return default_actor() if given is None else given


def _alert_line(alert: AlertRow) -> str:
    line = (
        f"alert {alert.id}  {alert.monitor}.{alert.feature}"
        f"{f' in {alert.segment}' if alert.segment else ''}  {alert.severity}  {alert.state}  "
        f"opened {_when(alert.created_at)}"
    )
    if alert.acknowledged_by:
        line += (
            f"  acknowledged by {alert.acknowledged_by} at {_when(alert.acknowledged_at)}: "
            f"{json.dumps(alert.acknowledged_note or '')}"
        )
    if alert.state != "open" and alert.resolved_reason:
        line += f"  resolved: {alert.resolved_reason}"
    return line


def _snooze_line(snooze: ActionRow) -> str:
    return (
        f"snoozed {_target(snooze.monitor, snooze.feature)} until {_when(snooze.until)} "
        f"by {snooze.actor}: {json.dumps(snooze.note)}"
    )


def _alert_dict(alert: AlertRow) -> dict[str, Any]:
    return {
        "id": alert.id, "monitor": alert.monitor, "feature": alert.feature,
        "segment": alert.segment, "severity": alert.severity, "state": alert.state,
        "opened_at": _iso(alert.created_at),
        "acknowledged_by": alert.acknowledged_by, "acknowledged_at": _iso(alert.acknowledged_at),
        "acknowledged_note": alert.acknowledged_note, "resolved_reason": alert.resolved_reason,
    }  # fmt: skip


def _snooze_dict(snooze: ActionRow) -> dict[str, Any]:
    return {
        "id": snooze.id, "monitor": snooze.monitor, "feature": snooze.feature,
        "actor": snooze.actor, "note": snooze.note, "created_at": _iso(snooze.created_at),
        "until": _iso(snooze.until),
    }  # fmt: skip


def _list(store_for: StoreFor, args: argparse.Namespace) -> int:
    store = store_for(args)
    try:
        monitor: str | None = args.monitor
        if monitor is not None:
            monitors = [monitor]
        else:
            known = {m.name for m in store.monitors_overview()}
            monitors = sorted(known | {a.monitor for a in store.open_alerts()})
        if args.all:
            alerts = [a for m in monitors for a in store.alerts(m)]
            alerts.sort(key=lambda a: (a.created_at, a.id))
        else:
            alerts = store.open_alerts(monitor)
        snoozes = [s for m in monitors for s in store.active_snoozes(m)]
    finally:
        store.close()
    if args.format == "json":
        body = {
            "alerts": [_alert_dict(a) for a in alerts],
            "snoozes": [_snooze_dict(s) for s in snoozes],
        }
        print(json.dumps(body, indent=2))
        return 0
    where = f" for {monitor}" if monitor is not None else ""
    if not alerts:
        print(f"no {'alerts' if args.all else 'open alerts'}{where}")
    for alert in alerts:
        print(_alert_line(alert))
    for snooze in snoozes:
        print(_snooze_line(snooze))
    return 0


def _ack(store_for: StoreFor, args: argparse.Namespace) -> int:
    actor = _actor(args)
    store = store_for(args)
    try:
        row = store.acknowledge(args.alert_id, actor=actor, note=args.note)
        alert = next((a for a in store.open_alerts(row.monitor) if a.id == row.alert_id), None)
    finally:
        store.close()
    severity = f", {alert.severity}" if alert is not None else ""
    print(
        f"acknowledged alert {row.alert_id} ({row.monitor}.{row.feature}{severity}) "
        f"as {row.actor}: {json.dumps(row.note)}"
    )
    return 0


def _duration(text: str) -> timedelta:
    from drift.config.durations import parse_duration
    from drift.errors import ActionError

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ActionError(f"--for {exc}") from None


def _snooze(store_for: StoreFor, args: argparse.Namespace) -> int:
    actor = _actor(args)
    length = _duration(args.duration)  # before the store: a bad duration changes nothing
    store = store_for(args)
    try:
        now = datetime.now(UTC)
        row = store.snooze(
            args.monitor, feature=args.feature, until=now + length, actor=actor,
            note=args.note, now=now,
        )  # fmt: skip
    finally:
        store.close()
    print(
        f"snoozed {_target(row.monitor, row.feature)} for {args.duration}, until "
        f"{_when(row.until)}, as {row.actor}: {json.dumps(row.note)}"
    )
    return 0


def _accept(store_for: StoreFor, args: argparse.Namespace) -> int:
    actor = _actor(args)
    store = store_for(args)
    try:
        before = {a.id for a in store.open_alerts(args.monitor)}
        row = store.accept_baseline(
            args.monitor, feature=args.feature, start=args.start, end=args.end, actor=actor,
            note=args.note,
        )  # fmt: skip
        resolved = sorted(before - {a.id for a in store.open_alerts(args.monitor)})
    finally:
        store.close()
    which = ", ".join(str(i) for i in resolved) or "none"
    print(
        f"accepted {row.range_start:%Y-%m-%d %H:%M} .. {row.range_end:%Y-%m-%d %H:%M} UTC as "
        f"the baseline of {_target(row.monitor, row.feature)} as {row.actor}: "
        f"{json.dumps(row.note)}; resolved {len(resolved)} open alert(s): {which}"
    )
    return 0
