"""An alert channel that refuses (closed port) or times out (a receiver slower than rto).

The failure is logged at ERROR with the channel and the notification, the
alert itself is recorded (open, in the store, with its notification pending
and the error kept), and the next run delivers the pending notification,
once: later runs send nothing more.

A timeout is inherently ambiguous (the receiver may have acted on the
request it answered late), so across a timeout delivery is at least once:
the test counts the posts the receiver *accepted* (answered 200 in time),
which is exactly one per alert.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from fault_support import DAY, LIVE, free_port, make_events, monitor, posts
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from drift.run import run_window
from drift.store import ResultsStore, upgrade

pytestmark = pytest.mark.db

TITLES = [
    "[CRITICAL] orders.amount: drift detected",
    "[CRITICAL] orders.country: drift detected",
]
NEXT = (LIVE[0] + DAY, LIVE[1] + DAY)


@pytest.fixture
def store(tmp_path: Path) -> ResultsStore:
    url = f"sqlite:///{tmp_path / 'results.db'}"
    upgrade(url)
    return ResultsStore(url)


@pytest.fixture
def source(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    make_events(url, days=11)
    return url


def _accepted(server: HTTPServer) -> list[str]:
    return sorted(
        json.loads(req.get_data())["title"] for req, resp in server.log if resp.status_code == 200
    )


def _check_recorded_and_pending(store: ResultsStore, caplog: pytest.LogCaptureFixture) -> None:
    alerts = store.alerts("orders")
    assert sorted((a.feature, a.state, a.severity) for a in alerts) == [
        ("amount", "open", "critical"),
        ("country", "open", "critical"),
    ]
    pending = store.pending_notifications("orders")
    assert sorted(p.title for p in pending) == TITLES
    assert all(p.last_error and "AlertError" in p.last_error for p in pending)
    failures = [
        r for r in caplog.records if r.name == "drift.alerts" and r.levelno == logging.ERROR
    ]
    assert len(failures) == 2
    assert all("alert channel apprise[0] failed" in r.getMessage() for r in failures)


def test_channel_refuses_then_comes_back(
    store: ResultsStore, source: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens here yet
    mon = monitor(source, hook=f"json://127.0.0.1:{port}/hook")
    caplog.set_level(logging.INFO)
    result = run_window(mon, *LIVE, store=store)
    assert result.status == "ok"
    _check_recorded_and_pending(store, caplog)
    # The receiver is back; the next window's run delivers what was pending, once.
    server = HTTPServer(host="127.0.0.1", port=port)
    server.expect_request("/hook", method="POST").respond_with_data("ok")
    server.start()
    try:
        run_window(mon, *NEXT, store=store)
        assert sorted(p["title"] for p in posts(server)) == TITLES
        assert store.pending_notifications("orders") == []
        run_window(mon, *NEXT, store=store)  # a retry of that window
        run_window(mon, NEXT[0] + DAY, NEXT[1] + DAY, store=store)  # and the one after
        assert len(posts(server)) == len(TITLES)
    finally:
        server.clear()
        server.stop()


def test_channel_times_out_then_answers(
    store: ResultsStore, source: str, receiver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    def too_slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response("too late", status=504)

    receiver.clear_all_handlers()
    receiver.expect_request("/hook", method="POST").respond_with_handler(too_slow)
    mon = monitor(source, hook=f"json://127.0.0.1:{receiver.port}/hook?rto=0.5&cto=0.5")
    caplog.set_level(logging.INFO)
    started = time.monotonic()
    run_window(mon, *LIVE, store=store)
    assert time.monotonic() - started < 10
    _check_recorded_and_pending(store, caplog)
    time.sleep(1.5)  # let the slow handlers finish
    receiver.clear_all_handlers()
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    run_window(mon, *NEXT, store=store)
    assert store.pending_notifications("orders") == []
    run_window(mon, NEXT[0] + DAY, NEXT[1] + DAY, store=store)
    assert _accepted(receiver) == TITLES
