"""Notifications that respect on-call actions (issue 16), on every backend, with a real receiver.

An acknowledged alert notifies again only when it escalates or resolves, and
says who acknowledged it; a snoozed monitor or feature notifies nothing
(the notification is kept, marked held back by the snooze); the outbox stays
exactly-once when an acknowledgement races a run that escalates.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from alert_support import alert_monitor, free_port, posts, window_summary
from pytest_httpserver import HTTPServer

from drift.alerts import deliver_pending, dispatch_alerts
from drift.alerts.types import AlertChange
from drift.config import parse_monitor
from drift.run import WindowResult, backfill, run_window
from drift.store import ResultsStore
from drift.store import tables as t

pytestmark = pytest.mark.db

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
DAY0 = datetime(2024, 3, 1, tzinfo=UTC)


def _hook(receiver: HTTPServer) -> str:
    return f"json://127.0.0.1:{receiver.port}/hook"


def test_an_acknowledged_alert_notifies_only_when_it_escalates_or_resolves(
    store: ResultsStore, receiver: HTTPServer
) -> None:
    monitor = alert_monitor(_hook(receiver), resolve_after=2)
    dispatch_alerts(monitor, window_summary(store, 0, "warn", 0.08), store=store)
    (alert,) = store.open_alerts("checkout")
    store.acknowledge(alert.id, actor="alice", note="launch in DE, expected")
    steps = [(1, "warn", 0.09), (2, "warn", 0.07), (3, "critical", 0.3), (4, "ok", 0.0),
             (5, "ok", 0.0)]  # fmt: skip
    events = [
        [e["event"] for e in dispatch_alerts(
            monitor, window_summary(store, d, s, v), store=store)["events"]]
        for d, s, v in steps
    ]  # fmt: skip
    assert events == [["update"], ["update"], ["escalate"], ["update"], ["resolve"]]
    got = posts(receiver)
    assert [p["title"] for p in got] == [
        "[WARN] checkout.amount: drift detected",
        "[CRITICAL] checkout.amount: drift got worse",
        "[OK] checkout.amount: drift resolved",
    ]
    assert "acknowledged" not in got[0]["message"]
    for post, event in zip(got[1:], ("escalated", "resolved"), strict=True):
        assert "acknowledged by alice at " in post["message"]
        assert '("launch in DE, expected")' in post["message"]
        assert f"this notification: it {event}" in post["message"]
    (resolved,) = store.alerts("checkout")
    assert (resolved.state, resolved.acknowledged_by) == ("resolved", "alice")


def test_a_snoozed_feature_notifies_nothing_and_keeps_what_it_held_back(
    store: ResultsStore, receiver: HTTPServer
) -> None:
    monitor = alert_monitor(_hook(receiver), resolve_after=1)
    window_summary(store, 0, "ok", 0.0)  # the monitor and feature are known to the store
    snooze = store.snooze(
        "checkout", feature="amount", until=datetime.now(UTC) + HOUR, actor="bob", note="migration"
    )
    for day, severity, value in [(1, "warn", 0.08), (2, "critical", 0.3), (3, "ok", 0.0)]:
        result = dispatch_alerts(monitor, window_summary(store, day, severity, value), store=store)
        assert (result["sent"], result["failed"]) == (0, 0)
    assert posts(receiver) == []
    # Incidents were recorded as always: opened, escalated, resolved.
    (alert,) = store.alerts("checkout")
    assert (alert.state, alert.severity) == ("resolved", "ok")
    held = store.notifications("checkout")
    assert [(n.event, n.suppressed_by, n.sent_at) for n in held] == [
        ("open", snooze.id, None), ("escalate", snooze.id, None), ("resolve", snooze.id, None),
    ]  # fmt: skip
    assert store.pending_notifications("checkout") == []


def test_a_snooze_of_another_feature_or_an_ended_one_does_not_silence(
    store: ResultsStore, receiver: HTTPServer
) -> None:
    monitor = alert_monitor(_hook(receiver))
    window_summary(store, 0, "ok", 0.0)
    window_summary(store, 0, "ok", 0.0, feature="country")
    now = datetime.now(UTC)
    store.snooze("checkout", feature=None, until=now - HOUR, actor="bob", note="deploy (over)",
                 now=now - 3 * HOUR)  # fmt: skip
    store.snooze("checkout", feature="country", until=now + HOUR, actor="bob", note="country only")
    dispatch_alerts(monitor, window_summary(store, 1, "warn", 0.08), store=store)
    assert [p["title"] for p in posts(receiver)] == ["[WARN] checkout.amount: drift detected"]


def test_a_notification_due_when_a_snooze_starts_is_held_back(
    store: ResultsStore, receiver: HTTPServer
) -> None:
    down = alert_monitor(f"json://127.0.0.1:{free_port()}/hook")  # nothing listens there
    result = dispatch_alerts(down, window_summary(store, 0, "warn", 0.08), store=store)
    assert (result["sent"], result["failed"]) == (0, 1)
    (pending,) = store.pending_notifications("checkout")
    snooze = store.snooze("checkout", feature=None, until=datetime.now(UTC) + HOUR, actor="carol",
                          note="channel back, incident known")  # fmt: skip
    up = alert_monitor(_hook(receiver))
    assert deliver_pending(up, store) == (0, 0)
    assert posts(receiver) == []
    (kept,) = store.notifications("checkout")
    assert (kept.key, kept.suppressed_by, kept.sent_at) == (pending.key, snooze.id, None)


class _AckFirst(ResultsStore):
    """A store where an acknowledgement lands between a run's decision and its write."""

    note = ""  # set by the test just before the run whose write it precedes

    def apply_alert_change(self, change: AlertChange) -> int | None:
        if self.note:
            (alert,) = self.open_alerts(change.monitor)
            self.acknowledge(alert.id, actor="dana", note=self.note)
            self.note = ""
        return super().apply_alert_change(change)


def test_an_acknowledgement_racing_an_escalation_notifies_once_and_is_named(
    db_url: str, receiver: HTTPServer
) -> None:
    from drift.store import upgrade

    upgrade(db_url)
    racing = _AckFirst(db_url)
    try:
        monitor = alert_monitor(_hook(receiver))
        dispatch_alerts(monitor, window_summary(racing, 0, "warn", 0.08), store=racing)
        racing.note = "on it"
        result = dispatch_alerts(monitor, window_summary(racing, 1, "critical", 0.3), store=racing)
        assert [e["event"] for e in result["events"]] == ["escalate"]
        escalations = [p for p in posts(receiver) if "got worse" in p["title"]]
        # Decided before the acknowledgement, refused as stale, decided again: one message,
        # and it names the acknowledgement.
        assert len(escalations) == 1
        assert "acknowledged by dana" in escalations[0]["message"]
        (alert,) = racing.open_alerts("checkout")
        assert (alert.severity, alert.acknowledged_by, alert.acknowledged_note) == (
            "critical", "dana", "on it",
        )  # fmt: skip
        assert sum(n.event == "escalate" for n in racing.notifications("checkout")) == 1
    finally:
        racing.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"], indirect=True)
def test_threads_racing_acknowledgement_and_escalation(
    db_url: str, receiver: HTTPServer, backend: str
) -> None:
    """Three rounds, each a new monitor: a run escalating and an ack at the same instant."""
    from drift.store import upgrade

    upgrade(db_url)
    runner, acker = ResultsStore(db_url), ResultsStore(db_url)
    try:
        for round_ in range(3):
            name = f"race{round_}"
            monitor = alert_monitor(_hook(receiver)).model_copy(update={"name": name})
            dispatch_alerts(monitor, window_summary(runner, 0, "warn", 0.08, name), store=runner)
            (alert,) = runner.open_alerts(name)
            critical = window_summary(runner, 1, "critical", 0.3, name)
            errors = _race(
                lambda m=monitor, w=critical: dispatch_alerts(m, w, store=runner),
                lambda a=alert.id: acker.acknowledge(a, actor="erin", note="seen"),
            )
            assert errors == []
            (after,) = runner.open_alerts(name)
            assert (after.severity, after.acknowledged_by) == ("critical", "erin")
            assert sum(n.event == "escalate" for n in runner.notifications(name)) == 1
        titles = sorted(p["title"] for p in posts(receiver) if "got worse" in p["title"])
        assert titles == [f"[CRITICAL] race{i}.amount: drift got worse" for i in range(3)]
    finally:
        runner.close()
        acker.close()


def _shifted_events(url: str) -> None:
    """Days 0-7 as the reference, days 8-11 shifted by 1.5 sd, days 12-15 back."""
    rng = np.random.default_rng(5)
    rows = [
        {"created_at": (DAY0 + day * DAY + i * (DAY / 300)).replace(tzinfo=None),
         "amount": float(rng.normal(65 if 8 <= day < 12 else 50, 10)),
         "country": str(rng.choice(["US", "DE", "FR"]))}
        for day in range(16) for i in range(300)
    ]  # fmt: skip
    engine = sa.create_engine(url)
    events = sa.Table(
        "events", sa.MetaData(), sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("amount", sa.Float), sa.Column("country", sa.String(8)),
    )  # fmt: skip
    events.create(engine)
    with engine.begin() as conn:
        conn.execute(events.insert(), rows)
    engine.dispose()


def test_a_snooze_that_ends_mid_backfill(
    store: ResultsStore, receiver: HTTPServer, tmp_path: Path
) -> None:
    """The incident opens under the snooze (held back), resolves after it (sent), once."""
    source = f"sqlite:///{tmp_path / 'events.db'}"
    _shifted_events(source)
    monitor = parse_monitor({
        "name": "orders", "source": {"url": source}, "table": "events",
        "timestamp": "created_at", "window": "1d",
        "reference": {"start": "2024-03-01", "end": "2024-03-09"},
        "features": [{"name": "amount", "kind": "numeric", "bins": 8}],
        "thresholds": {"resolve_after": 2}, "alerts": [{"apprise": _hook(receiver)}],
    })  # fmt: skip
    span = (DAY0 + 8 * DAY, DAY0 + 16 * DAY)
    run_window(monitor, DAY0 + 7 * DAY, DAY0 + 8 * DAY, store=store)  # fits the baseline
    snooze = store.snooze("orders", feature=None, until=datetime.now(UTC) + HOUR, actor="fay",
                          note="backfilling the migration")  # fmt: skip

    def end_snooze_after_day_10(result: WindowResult) -> None:
        if result.window_end == DAY0 + 11 * DAY:
            _end_snoozes(store)

    results = backfill(monitor, *span, store=store, notify=True, on_window=end_snooze_after_day_10)
    assert [r.status for r in results] == ["ok"] * 8
    held = [
        (n.event, n.suppressed_by, n.sent_at is not None) for n in store.notifications("orders")
    ]
    assert held[0][:2] == ("open", snooze.id) and not held[0][2]
    assert held[-1] == ("resolve", None, True)
    assert [p["title"] for p in posts(receiver)] == ["[OK] orders.amount: drift resolved"]
    # The same backfill again: nothing new is recorded or sent.
    backfill(monitor, *span, store=store, notify=True)
    assert len(posts(receiver)) == 1
    assert len(store.notifications("orders")) == len(held)


def _end_snoozes(store: ResultsStore) -> None:
    """End every snooze now, as if its time had run out (snoozes end by wall-clock time)."""
    ended = (datetime.now(UTC) - timedelta(milliseconds=10)).replace(tzinfo=None)
    with store.engine.begin() as conn:
        conn.execute(t.action.update().where(t.action.c.kind == "snooze").values(until=ended))


def _race(*jobs: Any) -> list[BaseException]:
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Any) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    return errors
