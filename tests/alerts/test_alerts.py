"""Alerts end to end with real parts: the store, an HTTP receiver and an SMTP server."""

from __future__ import annotations

import threading
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from alert_support import alert_monitor, free_port, posts, window_summary
from pytest_httpserver import HTTPServer

from drift.alerts import deliver_pending, dispatch_alerts, record_alerts
from drift.config import parse_monitor
from drift.store import ResultsStore

pytestmark = pytest.mark.db


def test_open_stay_quiet_escalate_resolve(store: ResultsStore, receiver: HTTPServer) -> None:
    monitor = alert_monitor(f"json://127.0.0.1:{receiver.port}/hook", resolve_after=1)
    steps = [("warn", 0.08), ("warn", 0.09), ("critical", 0.3), ("critical", 0.25), ("ok", 0.0)]
    events = [
        dispatch_alerts(monitor, window_summary(store, day, severity, value), store=store)["events"]
        for day, (severity, value) in enumerate(steps)
    ]
    assert [[e["event"] for e in day] for day in events] == [
        ["open"], ["update"], ["escalate"], ["update"], ["resolve"],
    ]  # fmt: skip
    titles = [post["title"] for post in posts(receiver)]
    assert titles == [
        "[WARN] checkout.amount: drift detected",
        "[CRITICAL] checkout.amount: drift got worse",
        "[OK] checkout.amount: drift resolved",
    ]
    assert store.open_alerts("checkout") == []


def test_the_message_says_what_drifted_and_why(store: ResultsStore, receiver: HTTPServer) -> None:
    monitor = alert_monitor(f"json://127.0.0.1:{receiver.port}/hook")
    summary = window_summary(store, 0, "warn", 0.08)
    dispatch_alerts(monitor, summary, store=store)
    (post,) = posts(receiver)
    body = post["message"]
    for expected in (
        "monitor: checkout",
        "window: 2024-07-01T00:00:00+00:00 .. 2024-07-02T00:00:00+00:00",
        "feature: amount (numeric)",
        "severity: warn (open)",
        "kl_corrected: 0.08 nats",
        "warn at 0.05, critical at 0.2",
        "p-value (BH-adjusted): 1e-08",
        "rows: 1000 live vs 10000 reference",
        "driven by: [69.28, inf] (+0.04)",
        f"/monitors/checkout/runs/{summary.run_id}",
    ):
        assert expected in body


def test_consecutive_windows_before_an_alert_opens(
    store: ResultsStore, receiver: HTTPServer
) -> None:
    monitor = alert_monitor(
        f"json://127.0.0.1:{receiver.port}/hook", consecutive=2, resolve_after=2
    )
    steps = ["warn", "ok", "warn", "warn", "ok", "warn", "ok", "ok"]
    events = [
        [e["event"] for e in dispatch_alerts(
            monitor, window_summary(store, d, s, 0.0 if s == "ok" else 0.1), store=store)["events"]]
        for d, s in enumerate(steps)
    ]  # fmt: skip
    assert events == [[], [], [], ["open"], ["update"], ["update"], ["update"], ["resolve"]]
    assert len(posts(receiver)) == 2


def test_a_retry_after_a_crash_between_deciding_and_sending_notifies_once(
    store: ResultsStore, receiver: HTTPServer
) -> None:
    monitor = alert_monitor(f"json://127.0.0.1:{receiver.port}/hook")
    summary = window_summary(store, 0, "critical", 0.3)
    # The first attempt decides and records, then dies before sending anything.
    record_alerts(monitor, summary, store=store)
    assert posts(receiver) == []
    # The retry of the same window sends the recorded notification, once.
    dispatch_alerts(monitor, summary, store=store)
    dispatch_alerts(monitor, summary, store=store)
    assert [p["title"] for p in posts(receiver)] == ["[CRITICAL] checkout.amount: drift detected"]


def test_two_runs_of_one_window_racing_notify_once(
    store: ResultsStore, receiver: HTTPServer, db_url: str
) -> None:
    monitor = alert_monitor(f"json://127.0.0.1:{receiver.port}/hook")
    summary = window_summary(store, 0, "warn", 0.1)
    other = store if db_url.startswith("duckdb") else ResultsStore(db_url)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(s: ResultsStore) -> None:
        try:
            barrier.wait()
            dispatch_alerts(monitor, summary, store=s)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in (store, other)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(posts(receiver)) == 1
    assert len(store.alerts("checkout")) == 1
    if other is not store:
        other.close()


def test_a_channel_that_is_down_is_retried_when_it_is_back(store: ResultsStore) -> None:
    port = free_port()
    monitor = alert_monitor(f"json://127.0.0.1:{port}/hook")
    result = dispatch_alerts(monitor, window_summary(store, 0, "warn", 0.1), store=store)
    assert (result["sent"], result["failed"]) == (0, 1)
    (pending,) = store.pending_notifications("checkout")
    assert pending.last_error and "AlertError" in pending.last_error
    assert store.open_alerts("checkout")[0].severity == "warn"  # recorded all the same
    server = HTTPServer(host="127.0.0.1", port=port)
    server.expect_request("/hook", method="POST").respond_with_data("ok")
    server.start()
    try:
        assert deliver_pending(monitor, store) == (1, 0)
        assert deliver_pending(monitor, store) == (0, 0)
        assert len(server.log) == 1
    finally:
        server.stop()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"


def test_an_email_reaches_a_real_smtp_server(store: ResultsStore) -> None:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monitor = alert_monitor(
            f"mailto://127.0.0.1:{port}?from=drift@example.com&to=oncall@example.com&mode=insecure"
        )
        dispatch_alerts(monitor, window_summary(store, 0, "critical", 0.3), store=store)
    finally:
        controller.stop()
    (raw,) = inbox.messages
    mail = message_from_bytes(raw)
    assert mail["Subject"] == "[CRITICAL] checkout.amount: drift detected"
    assert mail["To"] == "oncall@example.com"
    text = "".join(
        bytes(part.get_payload(decode=True)).decode() for part in mail.walk()
        if part.get_content_type() == "text/plain"
    )  # fmt: skip
    assert "feature: amount (numeric)" in text


def test_channel_urls_never_reach_the_store(store: ResultsStore, receiver: HTTPServer) -> None:
    secret = f"json://user:hunter2@127.0.0.1:{receiver.port}/hook"
    monitor = alert_monitor(secret)
    dispatch_alerts(monitor, window_summary(store, 0, "warn", 0.1), store=store)
    (note,) = store.notifications("checkout")
    assert note.channel == "apprise[0]"
    assert "hunter2" not in note.body and "hunter2" not in note.title


def test_a_failing_channel_does_not_stop_the_others(
    store: ResultsStore, receiver: HTTPServer
) -> None:
    monitor = parse_monitor(
        {
            "name": "checkout", "source": {"url": "sqlite://"}, "table": "events",
            "timestamp": "ts",
            "alerts": [
                {"apprise": f"json://127.0.0.1:{free_port()}/hook"},
                {"apprise": f"json://127.0.0.1:{receiver.port}/hook"},
            ],
        }
    )  # fmt: skip
    result = dispatch_alerts(monitor, window_summary(store, 0, "warn", 0.1), store=store)
    assert (result["sent"], result["failed"]) == (1, 1)
    assert len(posts(receiver)) == 1
    (pending,) = store.pending_notifications("checkout")
    assert pending.channel == "apprise[0]"
