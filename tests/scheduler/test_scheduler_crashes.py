"""Issue 20: under real Airflow schedulers, with crashes, nothing is lost and nothing doubled.

Real components (api-server, dag-processor, one or two schedulers with the
LocalExecutor; PostgreSQL for Airflow's metadata, the results and the
source) run a monitor's 48 hourly windows (``airflow backfill create
--max-active-runs 8``) while task processes are killed -9 at chosen points
(:mod:`chaos`), a scheduler is killed -9 once and started again, and every
connection to the results database is terminated once. Then every stored
row must equal that of one clean ``drift.run.backfill`` in a single process
(the control), every notification must have reached the receiver once (the
one documented exception, a sender killed after the channel accepted, is
counted), and every Airflow task must have ended in success (or skipped, for
``publish_drift`` of a window without drift). The counts of the last run are
written to ``.artifacts/scheduler/<monitor>.json`` for docs/reliability.md.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from compare import differences, integrity, snapshot
from scenario import BROKEN_HOUR, HOUR, LIVE_END, LIVE_START
from world import GAP, Outcome, World, build_world, crash_run, gap_run

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts" / "scheduler"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with build_world(tmp_path_factory.mktemp("scheduler")) as built:
        yield built


def _in_range(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return [r for r in rows if r[0] < LIVE_END]  # type: ignore[operator]


def _check(world: World, outcome: Outcome) -> None:
    name = outcome.name
    want = world.control[name]
    got = snapshot(world.urls["results"], name)
    extra_runs = [r for r in got["run"] if r[0] >= LIVE_END]  # type: ignore[operator]
    for table in ("run", "score", "histogram"):
        got[table] = _in_range(got[table])
    # Unpausing the DAG also starts its latest window (now), which holds no rows.
    assert {r[2] for r in extra_runs} <= {"insufficient_data"}, extra_runs
    assert differences(got, want) == {}
    assert set(integrity(world.urls["results"]).values()) == {0}
    assert outcome.claimed_unsent >= outcome.log.kills["before_answer"]
    # Every notification accepted by the receiver once; the documented exception twice.
    twice = Counter(
        (d.path, d.title) for d in outcome.deliveries if d.outcome == "accepted_then_killed"
    )
    expected = Counter(world.control_posts[name])
    for key in list(expected):
        expected[key] += twice[key[:2]]
    assert outcome.posts == expected
    # Airflow: every run and every task succeeded in the end (publish_drift skips no drift).
    assert {state for _, _, state in outcome.dag_runs} == {"success"}
    drifted = {w.strftime("%Y-%m-%dT%H") for w in world.control_drifted[name]}
    for task_id, state, window in outcome.task_states:
        if task_id == "publish_drift":
            assert state == ("success" if window in drifted else "skipped"), window
        else:
            assert state == "success", (task_id, window)
    assert len(outcome.task_states) == 4 * 48
    # The crashes happened (a planned task kill whose process had already exited is missed).
    kills = outcome.log.kills
    assert kills["scheduler"] == 1 and kills["terminate"] == 1
    (terminated,) = [e for e in outcome.log.events if e["kind"] == "terminated_connections"]
    assert terminated["tasks"] >= 1, terminated  # the termination hit the pipeline
    assert sum(kills.values()) - 2 >= 5, (kills, outcome.log.missed)
    assert outcome.retries >= kills["measure_read"] + kills["measure_write"] + kills["before_send"]


def _report(outcome: Outcome) -> dict[str, object]:
    duplicates = sum(n - 1 for n in outcome.posts.values() if n > 1)
    report = {
        "monitor": outcome.name,
        "schedulers": outcome.schedulers,
        "seconds": round(outcome.seconds),
        "kills": dict(outcome.log.kills),
        "missed": outcome.log.missed,
        "retries": outcome.retries,
        "max_try": outcome.tries,
        "duplicates": duplicates,
        "claimed_unsent_at_end": outcome.claimed_unsent,
        "notifications": sum(outcome.posts.values()) - duplicates,
        "events": outcome.log.events,
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{outcome.name}.json").write_text(json.dumps(report, indent=2, default=str))
    return report


def test_one_scheduler_killed_and_task_processes_killed(world: World) -> None:
    outcome = crash_run(world, "sched_one", schedulers=1, seed=20)
    report = _report(outcome)
    _check(world, outcome)
    print(json.dumps({k: v for k, v in report.items() if k != "events"}))


def test_two_schedulers_at_once_one_killed(world: World) -> None:
    outcome = crash_run(world, "sched_ha", schedulers=2, seed=21)
    report = _report(outcome)
    _check(world, outcome)
    print(json.dumps({k: v for k, v in report.items() if k != "events"}))


def test_a_window_that_cannot_be_measured_holds_up_no_later_alert(world: World) -> None:
    """The alert task depends on the past, but a window whose measure failed for good
    skips its alert, so the next window's alert runs (no monitor stalls on one bad hour)."""
    states = {(hour, task): (state, tries) for hour, task, state, tries in gap_run(world)}
    broken, after = f"{BROKEN_HOUR:02d}", f"{BROKEN_HOUR + 1:02d}"
    assert states[(broken, "measure")] == ("failed", 3)  # RETRIES = 2, so three tries
    assert states[(broken, "alert")][0] == "skipped"
    assert states[(after, "alert")] == ("success", 1)
    assert states[(after, "measure")] == ("success", 1)
    runs = {r[0]: r for r in snapshot(world.urls["results"], GAP)["run"]}
    failed = runs[LIVE_START + BROKEN_HOUR * HOUR]
    assert failed[2] == "error" and "division by zero" in str(failed[3])
    assert runs[LIVE_START + (BROKEN_HOUR + 1) * HOUR][2] == "ok"
