"""``make demo``: the demo monitor DAG, run by real Airflow for every daily window.

Everything lives under ``.demo/`` in the project root (or ``$DRIFT_DEMO_DIR``): the source
``.demo/source.db``, the results ``.demo/drift.db`` and Airflow's home (its
own SQLite metadata database) ``.demo/airflow/``. Run as
``python -m drift.airflow.demo``. A second run rebuilds the source and
Airflow's home but keeps the results database: each window's run is replaced
under the same id, so links to the first run's pages keep working.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from drift.sources.demo_data import DEMO_START, make_demo_source

if TYPE_CHECKING:
    from drift.store import AlertRow

ROOT = Path(__file__).resolve().parents[2]
#: Where the demo lives: ``.demo/`` in the project root, or ``$DRIFT_DEMO_DIR`` (the tests).
DEMO = Path(os.environ.get("DRIFT_DEMO_DIR") or ROOT / ".demo").resolve()
#: The folder as printed: relative to the project root when inside it.
SHOWN = str(DEMO.relative_to(ROOT)) if DEMO.is_relative_to(ROOT) else str(DEMO)
DAG_ID = "drift_demo_events"
MONITOR = "demo_events"
HEADER = (
    f"  {'window':<10}  {'airflow':<8}  {'run':<6}  {'features at warn or critical':<72}  alerts"
)
ROW = "  {:<10}  {:<8}  {:<6}  {:<72}  {}"
FIRST_WINDOW_END = DEMO_START + timedelta(days=15)
LAST_WINDOW_END = DEMO_START + timedelta(days=28)


def _environment() -> dict[str, str]:
    home = DEMO / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "DRIFT_DEMO_SOURCE_URL": f"sqlite:///{DEMO / 'source.db'}",
        "DRIFT_RESULTS_URL": f"sqlite:///{DEMO / 'drift.db'}",
        "DRIFT_ALERT_DIR": str(DEMO / "alerts"),
    }


def _say(text: str) -> None:
    print(text, flush=True)


def _results_db() -> str:
    """Keep ``.demo/drift.db`` (migrated) so run ids, and the links to them, survive."""
    from drift.store import upgrade

    url = os.environ["DRIFT_RESULTS_URL"]
    db = DEMO / "drift.db"
    if db.exists():
        try:
            upgrade(url)
        except Exception as exc:  # any failure (e.g. a newer schema): start afresh
            _say(f"results: {SHOWN}/drift.db could not be migrated ({exc}); starting it afresh")
            db.unlink()
        else:
            _forget_incidents(url)
            return (
                f"results: {SHOWN}/drift.db kept and its incidents cleared (each window's run is "
                "replaced under the same id, so links to the last demo's pages still work)"
            )
    upgrade(url)
    return f"results: {SHOWN}/drift.db created"


def _forget_incidents(url: str) -> None:
    """Delete the demo monitor's alerts and their notifications, keeping its runs.

    Incidents follow window time: re-running windows that already opened
    alerts would change nothing, and the demo would not show them open.
    """
    import sqlalchemy as sa

    from drift.store import tables

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for table in (tables.notification, tables.alert):
                conn.execute(table.delete().where(table.c.monitor == MONITOR))
    finally:
        engine.dispose()


def _quiet_alert_log() -> None:
    """The alert task logs each alert (a warning per feature); the demo prints a summary.

    The alerts are still stored, written to ``.demo/alerts/`` and shown by the
    dashboard; only their log lines, which would interleave with the table, go.
    """
    logging.getLogger("drift.alerts").setLevel(logging.ERROR)


def _alert_changes(before: dict[int, AlertRow], after: list[AlertRow], run_id: int) -> str:
    """What one window did to the incidents: opened, escalated, kept open, resolved."""
    opened = [a.feature for a in after if a.id not in before]
    escalated = [
        a.feature
        for a in after
        if a.id in before and a.severity != before[a.id].severity and a.state == "open"
    ]
    resolved = [a.feature for a in after if a.resolved_run_id == run_id]
    kept = [
        a.feature
        for a in after
        if a.id in before and a.last_run_id == run_id and a.state == "open"
        and a.feature not in escalated
    ]  # fmt: skip
    parts = [
        f"{label} {', '.join(names)}"
        for label, names in (
            ("opened", opened), ("escalated", escalated), ("updated", kept),
            ("resolved", resolved),
        )
        if names
    ]  # fmt: skip
    return "; ".join(parts) or "-"


def main() -> int:
    """Build the demo data, then run the monitor DAG through Airflow window by window."""
    started = time.perf_counter()
    # Airflow's home is rebuilt (nothing of it is linked to); the results
    # database is kept and migrated, so a second run replaces each window's
    # run under the same id and the first run's dashboard links still work.
    shutil.rmtree(DEMO / "alerts", ignore_errors=True)
    shutil.rmtree(DEMO / "airflow", ignore_errors=True)
    os.environ.update(_environment())
    rows = make_demo_source(os.environ["DRIFT_DEMO_SOURCE_URL"])
    _say(f"source: {rows} synthetic events in {SHOWN}/source.db (the shift starts 2024-05-19)")
    _say(_results_db())
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True, stdout=subprocess.DEVNULL, env=os.environ.copy(),
    )  # fmt: skip
    _say(f"airflow: metadata database {SHOWN}/airflow/airflow.db created")

    from airflow.dag_processing.dagbag import DagBag

    from drift.store import ResultsStore

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    if bag.import_errors:
        for path, error in bag.import_errors.items():
            _say(f"import error in {path}: {error}")
        return 1
    dag = bag.get_dag(DAG_ID)
    if dag is None:
        _say(f"DAG {DAG_ID} not found in dags/")
        return 1
    store = ResultsStore(os.environ["DRIFT_RESULTS_URL"])
    windows = (LAST_WINDOW_END - FIRST_WINDOW_END).days + 1
    _say(
        f"\nrunning the DAG {DAG_ID} through Airflow (dag.test) for {windows} daily windows; "
        "drift is kl_corrected in nats (warn at 0.05, critical at 0.2)\n"
    )
    _say(HEADER)
    _quiet_alert_log()
    end = FIRST_WINDOW_END
    opened_total = updated_windows = 0
    while end <= LAST_WINDOW_END:
        before = {a.id: a for a in store.alerts(MONITOR)}
        dag_run = dag.test(logical_date=end)
        _quiet_alert_log()  # in case the task's logging setup reset it
        (run,) = store.runs(MONITOR, end - timedelta(days=1), end)
        after = store.alerts(MONITOR)
        flagged = [
            f"{s.feature}={s.severity}({s.value_corrected:.3f})"
            for s in store.run_scores(run.id)
            if s.metric == "kl" and s.severity != "ok"
        ]
        changes = _alert_changes(before, after, run.id)
        opened = sum(a.id not in before for a in after)
        opened_total += opened
        updated_windows += bool(not opened and changes != "-")
        _say(
            ROW.format(
                f"{run.window_start:%Y-%m-%d}", str(dag_run.state), run.status,
                " ".join(flagged) or "no drift", changes,
            )
        )  # fmt: skip
        end += timedelta(days=1)
    still_open = [a.feature for a in store.open_alerts(MONITOR)]
    store.close()
    files = len(list((DEMO / "alerts").glob("*/*.json")))
    _say(
        f"\ndone in {time.perf_counter() - started:.0f} s. Alerts: {opened_total} opened, "
        f"then updated by {updated_windows} later window(s); open now: "
        f"{len(still_open)} ({', '.join(still_open) or 'none'}). Each window with drift "
        f"wrote {SHOWN}/alerts/{MONITOR}/<window>.json ({files} files) and an event on the "
        f"Asset drift://{MONITOR}."
    )
    _say(
        "look at the history: `make dashboard`, then open http://127.0.0.1:8050/ "
        f"(or query {SHOWN}/drift.db: tables drift_run, drift_score, drift_histogram, drift_alert)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
