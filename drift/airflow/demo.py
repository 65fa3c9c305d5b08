"""``make demo``: the demo monitor DAG, run by real Airflow for every daily window.

Everything lives under ``.demo/`` in the project root: the source
``.demo/source.db``, the results ``.demo/drift.db`` and Airflow's home (its
own SQLite metadata database) ``.demo/airflow/``. Run as
``python -m drift.airflow.demo``; a second run gives the same output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from drift.sources.demo_data import DEMO_START, make_demo_source

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / ".demo"
DAG_ID = "drift_demo_events"
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


def main() -> int:
    """Build the demo data, then run the monitor DAG through Airflow window by window."""
    started = time.perf_counter()
    # Start from nothing, so a second run gives the same output whatever an older
    # version of the package left behind (schemas, assets, DAG versions).
    shutil.rmtree(DEMO / "alerts", ignore_errors=True)
    shutil.rmtree(DEMO / "airflow", ignore_errors=True)
    (DEMO / "drift.db").unlink(missing_ok=True)
    os.environ.update(_environment())
    rows = make_demo_source(os.environ["DRIFT_DEMO_SOURCE_URL"])
    _say(f"source: {rows} synthetic events in .demo/source.db (the shift starts 2024-05-19)")

    from drift.store import ResultsStore, upgrade

    upgrade(os.environ["DRIFT_RESULTS_URL"])
    _say("results: .demo/drift.db created")
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True, stdout=subprocess.DEVNULL, env=os.environ.copy(),
    )  # fmt: skip
    _say("airflow: metadata database .demo/airflow/airflow.db created")

    from airflow.dag_processing.dagbag import DagBag

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
    _say(f"\nrunning {DAG_ID} through Airflow for each daily window (window: drift found)")
    end = FIRST_WINDOW_END
    while end <= LAST_WINDOW_END:
        dag_run = dag.test(logical_date=end)
        (run,) = store.runs("demo_events", end - timedelta(days=1), end)
        flagged = [
            f"{s.feature}={s.severity}({s.value_corrected:.3f})"
            for s in store.run_scores(run.id)
            if s.metric == "kl" and s.severity != "ok"
        ]
        _say(
            f"  {run.window_start:%Y-%m-%d}  airflow {dag_run.state:<8} run {run.status:<6} "
            + (" ".join(flagged) or "no drift")
        )
        end += timedelta(days=1)
    store.close()
    alerts = sorted((DEMO / "alerts").glob("*/*.json"))
    _say(
        f"\ndone in {time.perf_counter() - started:.0f} s: {len(alerts)} window(s) raised alerts "
        "(logged by each run's alert task, one file per window in .demo/alerts/); the Asset "
        "drift://demo_events got an event for each window with drift."
    )
    _say(
        "look at the history: `make dashboard`, then open http://127.0.0.1:8050/ "
        "(or query .demo/drift.db: tables drift_run, drift_score, drift_histogram)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
