"""Kill -9 at chosen points while Airflow runs a monitor's 48 windows.

A seeded RNG picks the targets (:func:`make_plan`), so a run is repeatable in
what it aims at while the points vary with the seed. The :class:`Watcher`
thread looks from outside, as an operator's tooling would: Airflow's
metadata database for the running task instances and their task process
pids, ``pg_stat_activity`` of the source and results databases for what
those processes are doing, psutil for which process owns which connection.

Kill points (each aimed at a task's first try only, so no task is killed
more often than its retries allow):

- ``random``: a baseline, measure or alert process, a seeded delay after it
  is first seen running (anywhere: parsing, reading, writing, sending);
- ``measure_read``: a measure process while its source query runs;
- ``measure_write``: a measure process inside its run's write transaction
  (held by the ``score`` gate, :mod:`gates`);
- ``before_send``: an alert process that committed the incident and its
  outbox row and is claiming it for delivery (the ``claim`` gate);
- ``before_answer`` / ``after_answer``: an alert process posting to the
  receiver, killed by the receiver while it holds the request, or right after
  it answered 200 (:mod:`receiver`);
- ``scheduler``: a scheduler, once, then started again;
- ``terminate``: ``pg_terminate_backend`` of every connection to the results
  database, once.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import gates
import sqlalchemy as sa
from procs import is_task_process, kill9, local_ports, socket_owner
from scenario import HOUR, LIVE_START, WINDOWS

PG_PORT = 5432
PATHS = {"apprise[0]": "/hook/a", "apprise[1]": "/hook/b"}


@dataclass(frozen=True)
class Target:
    """A notification: the alert event on one channel, and the title it is posted with."""

    feature: str
    event: str
    severity: str
    channel: str
    title: str

    @property
    def path(self) -> str:
        return PATHS[self.channel]


@dataclass
class Plan:
    """What to kill, chosen by ``seed``."""

    seed: int
    random_kills: dict[tuple[int, str], float]
    measure_reads: set[int]
    measure_write: int
    before_send: Target
    before_answer: Target
    after_answer: Target
    scheduler_at: float = 0.3
    terminate_at: float = 0.6


def make_plan(seed: int, notifications: Sequence[Target]) -> Plan:
    """Targets for one run: windows by index, notifications among the control's."""
    rng = random.Random(seed)
    windows = rng.sample(range(1, WINDOWS), 6)
    tasks = ("baseline", "measure", "alert")
    notes = rng.sample(list(notifications), 3)
    return Plan(
        seed=seed,
        random_kills={(w, rng.choice(tasks)): rng.uniform(0.0, 1.5) for w in windows[:3]},
        measure_reads=set(windows[3:5]),
        measure_write=windows[5],
        before_send=notes[0],
        before_answer=notes[1],
        after_answer=notes[2],
    )


@dataclass
class Log:
    """What was done, for the assertions and the report."""

    kills: Counter[str] = field(default_factory=Counter)
    missed: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, **detail: Any) -> None:
        with self.lock:
            self.kills[kind] += 1
            self.events.append({"kind": kind, **detail})
        print(f"chaos: {kind} {detail}", file=sys.stderr, flush=True)


_RUNNING = """
SELECT ti.id, ti.task_id, ti.try_number, ti.pid, dr.logical_date
FROM task_instance ti JOIN dag_run dr ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id
WHERE ti.dag_id = :dag AND ti.state = 'running' AND ti.pid IS NOT NULL
"""
_DONE = """
SELECT count(*) FROM dag_run WHERE dag_id = :dag AND backfill_id IS NOT NULL AND state = 'success'
"""
_SOURCE_READS = """
SELECT client_port FROM pg_stat_activity
WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
  AND query ILIKE '%events%'
"""


def window_index(logical_date: datetime) -> int:
    return int((logical_date - LIVE_START) / HOUR)


class Watcher(threading.Thread):
    """Lands the plan's task kills; calls ``at_progress`` hooks as windows complete.

    Parameters
    ----------
    plan, log : Plan, Log
    dag_id : str
    metadata, source, results : sqlalchemy.Engine
        Airflow's metadata database, the monitored source, the results database.
    hooks : sequence of (fraction, name, callable)
        Each called once (in a thread of its own) when that share of the 48
        backfill runs has succeeded; the scheduler kill and the termination.
    """

    def __init__(
        self,
        plan: Plan,
        log: Log,
        dag_id: str,
        metadata: sa.Engine,
        source: sa.Engine,
        results: sa.Engine,
        hooks: Sequence[tuple[float, str, Callable[[], None]]],
    ) -> None:
        super().__init__(daemon=True)
        self.plan, self.log, self.dag_id = plan, log, dag_id
        self.metadata, self.source, self.results = metadata, source, results
        self.hooks = list(hooks)
        self.fired: set[str] = set()
        self.seen: dict[tuple[int, str], float] = {}
        self.done: set[tuple[int, str]] = set()
        self.held: set[tuple[str, int]] = set()
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    self._tick()
                except sa.exc.OperationalError:
                    # The termination of the results database's connections takes ours too.
                    self.log.events.append({"kind": "watcher_connection_lost"})
                time.sleep(0.05)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=30)
        for thread in self.threads:
            thread.join(timeout=120)
        gates.disarm(self.results)
        if self.errors:
            raise self.errors[0]

    def _tick(self) -> None:
        with self.metadata.connect() as conn:
            running = conn.execute(sa.text(_RUNNING), {"dag": self.dag_id}).all()
            done = int(conn.execute(sa.text(_DONE), {"dag": self.dag_id}).scalar_one())
        now = time.monotonic()
        firsts = {}
        for ti_id, task_id, try_number, pid, logical_date in running:
            key = (window_index(logical_date), task_id)
            if try_number == 1 and key not in self.done:
                firsts[key] = (str(ti_id), int(pid))
                self.seen.setdefault(key, now)
        for key, delay in self.plan.random_kills.items():
            if key in firsts and now >= self.seen[key] + delay:
                self._kill_task("random", key, *firsts[key])
        reads = [k for k in firsts if k[1] == "measure" and k[0] in self.plan.measure_reads]
        if reads:
            with self.source.connect() as conn:
                active = {int(p) for (p,) in conn.execute(sa.text(_SOURCE_READS)) if p}
            for key in reads:
                ti_id, pid = firsts[key]
                if local_ports(pid, PG_PORT) & active:
                    self._kill_task("measure_read", key, ti_id, pid)
        for kind, port in gates.held(self.results):
            if (kind, port) in self.held:
                continue  # killed already; its backend leaves the gate on its next beat
            self.held.add((kind, port))
            pid = socket_owner(port, PG_PORT)
            name = "measure_write" if kind == "score" else "before_send"
            if pid is not None and kill9(pid):
                self.log.add(name, pid=pid, at=now)
            else:
                self.log.missed.append(f"{name}: no process on port {port}")
            gates.disarm(self.results, kind)
        for fraction, name, hook in self.hooks:
            if name not in self.fired and done >= fraction * WINDOWS:
                self.fired.add(name)
                thread = threading.Thread(target=self._guarded, args=(hook,), daemon=True)
                thread.start()
                self.threads.append(thread)
                self.log.add(name, at=now, done=done)

    def _guarded(self, hook: Callable[[], None]) -> None:
        try:
            hook()
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)

    def _kill_task(self, kind: str, key: tuple[int, str], ti_id: str, pid: int) -> None:
        self.done.add(key)
        if is_task_process(pid, ti_id) and kill9(pid):
            self.log.add(kind, window=key[0], task=key[1], pid=pid)
        else:
            self.log.missed.append(f"{kind}: {key} had exited")


def receiver_plan(plan: Plan, log: Log) -> Callable[[str, str, int | None], str | None]:
    """The receiver's side of the plan: each delivery target once."""
    pending = {
        (plan.before_answer.path, plan.before_answer.title): "before_answer",
        (plan.after_answer.path, plan.after_answer.title): "after_answer",
    }
    lock = threading.Lock()

    def decide(path: str, title: str, pid: int | None) -> str | None:
        with lock:
            point = pending.pop((path, title), None)
        if point is not None:
            if pid is None:
                log.missed.append(f"{point}: sender not found")
                return None
            log.add(point, pid=pid, title=title, path=path)
        return point

    return decide
