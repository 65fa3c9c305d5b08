"""Two tasks run the same monitor window at once: one result, one notification.

Two threads, each with its own results store (own engine and connections),
start ``run_window`` for the same monitor and window at the same instant
(a barrier). Both race on everything: the monitor row, the baseline's first
version, the run row (unique per monitor and window), the alert (one open
per monitor and feature) and its notification (unique key). Three rounds,
each a new monitor, so each round races from an empty state. A third,
undisturbed store is the control.
"""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import Any

import pytest
from fault_support import LIVE, make_events, monitor, posts, snapshot
from pytest_httpserver import HTTPServer

from drift.run import run_window
from drift.store import ResultsStore, upgrade

pytestmark = pytest.mark.db


def _race(n: int, job: Any) -> list[BaseException]:
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            job(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    return errors


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"], indirect=True)
def test_two_threads_one_window(
    db_url: str, tmp_path: Path, receiver: HTTPServer, backend: str
) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    make_events(source)
    hook = f"json://127.0.0.1:{receiver.port}/hook"
    upgrade(db_url)
    control_url = f"sqlite:///{tmp_path / 'control.db'}"
    upgrade(control_url)
    control = ResultsStore(control_url)
    stores = [ResultsStore(db_url), ResultsStore(db_url)]
    names = [f"race{i}" for i in range(3)]
    for name in names:
        run_window(monitor(source, name=name), *LIVE, store=control, notify=False)
        mon = monitor(source, hook=hook, name=name)
        errors = _race(2, lambda i, mon=mon: run_window(mon, *LIVE, store=stores[i]))
        assert errors == []
    got, expected = snapshot(stores[0]), snapshot(control)
    # One run, one set of scores and histograms, one baseline version per monitor.
    for table in ("run", "score", "histogram", "baseline"):
        assert got[table] == expected[table], table
    assert [a[:4] for a in got["alert"]] == [
        (name, feature, "critical", "open") for name in names for feature in ("amount", "country")
    ]
    titles = sorted(p["title"] for p in posts(receiver))
    assert titles == sorted(
        f"[CRITICAL] {name}.{feature}: drift detected"
        for name in names
        for feature in ("amount", "country")
    )
    assert all(n[-1] == 1 for n in got["notification"])  # one send attempt each
    for store in (*stores, control):
        store.close()


def _child(db_url: str, source: str, hook: str, go: Any) -> None:
    store = ResultsStore(db_url)
    go.wait()
    run_window(monitor(source, hook=hook, name="procs"), *LIVE, store=store)
    store.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_processes_one_window(
    db_url: str, tmp_path: Path, receiver: HTTPServer, backend: str
) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    make_events(source)
    upgrade(db_url)
    hook = f"json://127.0.0.1:{receiver.port}/hook"
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_child, args=(db_url, source, hook, go)) for _ in range(2)]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    store = ResultsStore(db_url)
    assert [r.status for r in store.runs("procs")] == ["ok"]
    assert len(snapshot(store)["score"]) == 2 * 3  # two features, three metrics
    assert sorted(p["title"] for p in posts(receiver)) == [
        "[CRITICAL] procs.amount: drift detected",
        "[CRITICAL] procs.country: drift detected",
    ]
    store.close()
