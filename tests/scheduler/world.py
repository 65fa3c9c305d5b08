"""The shared setting of the scheduler tests, and one crash run under real schedulers.

:func:`build_world` makes the databases (Airflow metadata, results, source,
control results), the source data, the monitors, the control (one clean
``drift.run.backfill`` per monitor, notifying a receiver of its own) and an
Airflow deployment with its api-server and dag-processor. :func:`crash_run`
then runs one monitor's 48 windows with ``airflow backfill create``
(``--max-active-runs 8``) under one or two schedulers while the
:class:`chaos.Watcher` kills, and returns what happened.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import gates
import sqlalchemy as sa
from chaos import Log, Target, Watcher, make_plan, receiver_plan
from compare import snapshot
from deployment import Component, Deployment, database_url, postgres_databases
from receiver import Receiver
from scenario import (
    HOUR,
    LIVE_END,
    LIVE_START,
    SOURCE_URL_ENV,
    make_source,
    write_gap_monitor,
    write_monitor,
)

MONITORS = ("sched_one", "sched_ha")
#: The monitor with one window that cannot be measured (scenario.write_gap_monitor).
GAP = "sched_gap"
#: How long 48 windows may take under the crashes before the test gives up.
RUN_TIMEOUT = 900


def strip_links(text: str) -> str:
    import re

    return re.sub(r"/runs/\d+", "/runs/<id>", text)


@dataclass
class World:
    home: Path
    urls: dict[str, str]
    deployment: Deployment
    receiver: Receiver
    control: dict[str, dict[str, list[tuple[Any, ...]]]]
    control_posts: dict[str, Counter[tuple[str, str, str]]]
    control_drifted: dict[str, set[datetime]]


@contextmanager
def build_world(home: Path) -> Iterator[World]:
    from drift.config import load_monitor
    from drift.run import backfill
    from drift.store import ResultsStore, upgrade

    receiver, control_receiver = Receiver(), Receiver()
    with postgres_databases("meta", "results", "source", "control") as urls:
        make_source(urls["source"])
        control: dict[str, Any] = {}
        drifted: dict[str, set[datetime]] = {}
        saved = os.environ.get(SOURCE_URL_ENV)
        os.environ[SOURCE_URL_ENV] = urls["source"]
        try:
            upgrade(urls["control"])
            store = ResultsStore(urls["control"])
            for name in MONITORS:
                write_monitor(home / "monitors", name, receiver.url("/hook"))
                path = write_monitor(home / "control", name, control_receiver.url("/hook"))
                monitor = load_monitor(path)
                results = backfill(monitor, LIVE_START, LIVE_END, store=store, notify=True)
                assert [r.status for r in results] == ["ok"] * len(results)
                drifted[name] = {r.window_start for r in results if r.summary().drifted}
                control[name] = snapshot(urls["control"], name)
            store.close()
        finally:
            if saved is None:
                os.environ.pop(SOURCE_URL_ENV, None)
            else:
                os.environ[SOURCE_URL_ENV] = saved
        posts: dict[str, Counter[tuple[str, str, str]]] = {name: Counter() for name in MONITORS}
        for d in control_receiver.deliveries:
            monitor_name = d.title.split("] ", 1)[1].split(".", 1)[0]
            posts[monitor_name][(d.path, d.title, strip_links(d.body))] += 1
        control_receiver.close()
        write_gap_monitor(home / "monitors", GAP)
        # The results database is migrated ahead, as the compose file's airflow-init does.
        upgrade(urls["results"])
        gates.install(urls["results"])
        deployment = Deployment(
            home / "airflow",
            urls["meta"],
            {
                "AIRFLOW_CONN_DRIFT_RESULTS": database_url(
                    sa.make_url(urls["results"]).database or "", "postgresql"
                ),
                "DRIFT_MONITORS_PATH": str(home / "monitors"),
                SOURCE_URL_ENV: urls["source"],
            },
        )
        try:
            deployment.airflow("db", "migrate")
            deployment.start_api_server()
            deployment.start("dag-processor", "dag-processor")
            for name in (*MONITORS, GAP):
                deployment.wait_for_dag(f"drift_{name}")
            yield World(home, urls, deployment, receiver, control, posts, drifted)
        finally:
            deployment.stop_all()
            receiver.close()


@dataclass
class Outcome:
    """What one crash run did and left."""

    name: str
    schedulers: int
    seconds: float
    log: Log
    retries: int
    tries: dict[str, int]
    dag_runs: list[tuple[str, str, str]]
    task_states: list[tuple[str, str, str]]
    claimed_unsent: int
    posts: Counter[tuple[str, str, str]]
    deliveries: list[Any]
    terminated: list[int] = field(default_factory=list)


#: The ``application_name`` of this test's own connections to the results database.
TEST_APP = "drift-scheduler-test"


def own_engine(url: str) -> sa.Engine:
    """An engine of this test (never pooled), told apart from the tasks' connections."""
    return sa.create_engine(
        url, poolclass=sa.pool.NullPool, connect_args={"application_name": TEST_APP}
    )


def _terminate_results(url: str, log: Log, timeout: float = 30) -> None:
    """``pg_terminate_backend`` every connection to the results database, once.

    Waits (at most ``timeout`` seconds) for a moment when a task holds one, so
    the termination hits the pipeline and not only an empty database.
    """
    engine = own_engine(url)
    # CASE, not AND: PostgreSQL may evaluate WHERE terms in any order, and a
    # pg_terminate_backend there could reach the server's other databases.
    sql = (
        "SELECT application_name FROM (SELECT application_name, CASE WHEN "
        "datname = current_database() AND pid <> pg_backend_pid() "
        "THEN pg_terminate_backend(pid) END AS done FROM pg_stat_activity) AS t WHERE done"
    )
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
    waiting += "pid <> pg_backend_pid() AND application_name IS DISTINCT FROM :me"
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline and not conn.scalar(sa.text(waiting), {"me": TEST_APP}):
            conn.rollback()  # pg_stat_activity is read once per transaction
            time.sleep(0.02)
        killed = [name for (name,) in conn.execute(sa.text(sql))]
    engine.dispose()
    log.events.append(
        {"kind": "terminated_connections", "tasks": sum(n != TEST_APP for n in killed),
         "test": sum(n == TEST_APP for n in killed)}
    )  # fmt: skip


def _wait_runs(
    dep: Deployment,
    dag: str,
    timeout: float,
    watcher: Watcher | None = None,
    schedulers: list[Component] | None = None,
    expected: int = 48,
) -> None:
    """Until the ``expected`` backfill runs and every other run of ``dag`` have finished."""
    deadline = time.monotonic() + timeout
    dead_since: float | None = None
    while time.monotonic() < deadline:
        if watcher is not None and watcher.errors:
            raise watcher.errors[0]
        if any(not c.alive() for c in schedulers or ()):  # a restart takes a second
            dead_since = dead_since or time.monotonic()
            if time.monotonic() - dead_since > 10:
                raise AssertionError(f"a scheduler exited:\n{dep.logs_tail()}")
        else:
            dead_since = None
        states = dep.rows(
            "SELECT state, backfill_id IS NOT NULL, count(*) FROM dag_run WHERE dag_id = :d "
            "GROUP BY 1, 2",
            d=dag,
        )
        backfilled = sum(n for state, b, n in states if b and state in ("success", "failed"))
        if backfilled >= expected and all(state in ("success", "failed") for state, _, _ in states):
            return
        time.sleep(1)
    raise AssertionError(f"{dag}: runs not done within {timeout} s: {states}\n{dep.logs_tail()}")


def crash_run(world: World, name: str, *, schedulers: int, seed: int) -> Outcome:
    """The 48 windows of ``name`` under ``schedulers`` schedulers, with the plan of ``seed``."""
    dep, dag = world.deployment, f"drift_{name}"
    notes = [
        Target(*row[:5]) for row in world.control[name]["notification"]
    ]  # feature, event, severity, channel, title
    plan, log = make_plan(seed, notes), Log()
    world.receiver.plan = receiver_plan(plan, log)
    results = own_engine(world.urls["results"])
    gates.arm_score(results, LIVE_START + plan.measure_write * HOUR)
    b = plan.before_send
    gates.arm_claim(results, b.feature, b.event, b.severity, b.channel)
    running: list[Component] = [
        dep.start(f"scheduler-{name}-{i}", "scheduler") for i in range(schedulers)
    ]

    def kill_scheduler() -> None:
        victim = running[0]
        victim.kill_hard()
        time.sleep(1)
        running[0] = dep.start(f"{victim.name}-restarted", "scheduler")

    engines = {
        "metadata": sa.create_engine(dep.metadata_url, poolclass=sa.pool.NullPool),
        "source": sa.create_engine(world.urls["source"], poolclass=sa.pool.NullPool),
    }

    def terminate() -> None:
        _terminate_results(world.urls["results"], log)

    watcher = Watcher(
        plan, log, dag, engines["metadata"], engines["source"], results,
        hooks=[(plan.scheduler_at, "scheduler", kill_scheduler),
               (plan.terminate_at, "terminate", terminate)],
    )  # fmt: skip
    started = time.monotonic()
    try:
        dep.airflow("dags", "unpause", dag)
        watcher.start()
        dep.airflow(
            "backfill", "create", "--dag-id", dag, "--from-date", LIVE_START.isoformat(),
            "--to-date", (LIVE_END - HOUR).isoformat(), "--max-active-runs", "8",
            # Airflow asks for it with depends_on_past tasks (alert): no run exists in the range.
            "--reprocess-behavior", "completed",
        )  # fmt: skip
        _wait_runs(dep, dag, RUN_TIMEOUT, watcher, running)
        watcher.finish()
        seconds = time.monotonic() - started
        claimed = _expire_leases(results, name)
        # The next run of the monitor delivers what is still pending: here the last window's
        # alert, run again (its incidents are decided again, to the same result).
        _run_last_alert_again(dep, dag)
        _wait_runs(dep, dag, 120, schedulers=running)
    finally:
        watcher.stop.set()
        for component in running:
            component.stop()
        for engine in engines.values():
            engine.dispose()
    tries = dep.rows(
        "SELECT task_id, max(try_number), sum(try_number - 1) FROM task_instance "
        "WHERE dag_id = :d GROUP BY task_id",
        d=dag,
    )
    posts: Counter[tuple[str, str, str]] = Counter()
    mine = [d for d in world.receiver.deliveries if f"] {name}." in d.title]
    for d in mine:
        if d.outcome != "killed_before_answer":
            posts[(d.path, d.title, strip_links(d.body))] += 1
    results.dispose()
    return Outcome(
        name=name,
        schedulers=schedulers,
        seconds=seconds,
        log=log,
        retries=int(sum(r[2] for r in tries)),
        tries={str(r[0]): int(r[1]) for r in tries},
        dag_runs=[tuple(r) for r in dep.rows(
            "SELECT run_id, run_type, state FROM dag_run WHERE dag_id = :d", d=dag)],
        task_states=[tuple(r) for r in dep.rows(
            "SELECT ti.task_id, ti.state, to_char(dr.logical_date AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24') FROM task_instance ti JOIN dag_run dr "
            "ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id "
            "WHERE ti.dag_id = :d AND dr.backfill_id IS NOT NULL", d=dag)],
        claimed_unsent=claimed,
        posts=posts,
        deliveries=mine,
    )  # fmt: skip


def _run_last_alert_again(dep: Deployment, dag: str, timeout: float = 300) -> None:
    """Clear the last window's ``alert`` and wait for its new try to succeed."""
    last = LIVE_END - HOUR
    query = (
        "SELECT ti.try_number, ti.state FROM task_instance ti JOIN dag_run dr "
        "ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id "
        "WHERE ti.dag_id = :d AND ti.task_id = 'alert' AND dr.logical_date = :w"
    )
    ((before, _),) = dep.rows(query, d=dag, w=last)
    # The task id filter of `airflow tasks clear -t` is a substring in Airflow 3.3.
    dep.airflow("tasks", "clear", dag, "-t", "alert", "-s", last.isoformat(),
                "-e", last.isoformat(), "-y")  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ((tries, state),) = dep.rows(query, d=dag, w=last)
        if tries > before and state == "success":
            return
        time.sleep(0.5)
    raise AssertionError(f"the cleared alert did not run again:\n{dep.logs_tail()}")


def _expire_leases(results: sa.Engine, name: str) -> int:
    """Move the claims of unsent notifications into the past; how many there were.

    A sender killed after claiming a notification holds it for the 5-minute
    lease; the lease running out is simulated, as in tests/faults.
    """
    with results.begin() as conn:
        return int(
            conn.execute(
                sa.text(
                    "UPDATE drift_notification SET claimed_until = '2000-01-01' "
                    "WHERE monitor = :m AND sent_at IS NULL AND claimed_until IS NOT NULL"
                ),
                {"m": name},
            ).rowcount
        )


def gap_run(world: World, windows: int = 3) -> list[tuple[str, str, str, int]]:
    """Backfill the first ``windows`` hours of :data:`GAP` under one scheduler.

    Returns (window start hour, task id, state, try number) of every task instance.
    """
    dep, dag = world.deployment, f"drift_{GAP}"
    scheduler = dep.start(f"scheduler-{GAP}", "scheduler")
    try:
        dep.airflow("dags", "unpause", dag)
        dep.airflow(
            "backfill", "create", "--dag-id", dag, "--from-date", LIVE_START.isoformat(),
            "--to-date", (LIVE_START + (windows - 1) * HOUR).isoformat(),
            "--reprocess-behavior", "completed",
        )  # fmt: skip
        _wait_runs(dep, dag, 300, schedulers=[scheduler], expected=windows)
    finally:
        scheduler.stop()
    return [
        (str(hour), str(task), str(state), int(tries))
        for hour, task, state, tries in dep.rows(
            "SELECT to_char(dr.logical_date AT TIME ZONE 'UTC', 'HH24'), ti.task_id, ti.state, "
            "ti.try_number FROM task_instance ti JOIN dag_run dr "
            "ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id "
            "WHERE ti.dag_id = :d AND dr.backfill_id IS NOT NULL",
            d=dag,
        )
    ]
