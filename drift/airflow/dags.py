"""One Airflow DAG per monitor YAML: baseline -> measure -> alert -> publish drift.

The window of a run is its data interval, so catchup and ``airflow backfill
create`` cover history; re-running a window replaces its results. A manual
run without a data interval takes ``window_start``/``window_end`` from its
params, or fails saying so. When drift is found, the ``publish_drift`` task
emits an event on the Asset ``drift://<monitor>`` with a summary in its
``extra``, so a retraining DAG can be scheduled on drift; otherwise it is
skipped and emits nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drift.config import MonitorConfig, load_monitor
from drift.errors import ConfigError

__all__ = ["START_DATE", "asset_uri", "build_dags", "build_monitor_dag", "dag_id", "timetable"]

log = logging.getLogger(__name__)

#: Runs are scheduled from here on (with catchup off, only the latest window).
START_DATE = datetime(2024, 1, 1, tzinfo=UTC)
RETRIES = 2
RETRY_DELAY = timedelta(minutes=2)


def dag_id(name: str) -> str:
    """The DAG id of the monitor ``name``."""
    return f"drift_{name}"


def asset_uri(name: str) -> str:
    """The Asset that receives an event when the monitor ``name`` finds drift."""
    return f"drift://{name}"


def _cron_for(length: timedelta) -> str | None:
    """A cron expression whose intervals are ``length`` long and aligned to UTC midnight."""
    seconds = int(length.total_seconds())
    if seconds == 86_400:
        return "0 0 * * *"
    if seconds % 3600 == 0 and 86_400 % seconds == 0:
        return f"0 */{seconds // 3600} * * *"
    if seconds % 60 == 0 and 3600 % seconds == 0:
        return f"*/{seconds // 60} * * * *"
    return None


def timetable(monitor: MonitorConfig) -> Any:
    """The monitor's timetable: data intervals that are exactly its windows.

    A cron ``schedule`` gives intervals between ticks. A ``window`` that
    divides a day (``15m``, ``1h``, ``6h``, ``1d``) becomes the matching cron,
    aligned to UTC midnight like ``drift backfill``'s windows; any other
    length (``7d``) repeats from the DAG's start date.
    """
    from airflow.sdk import CronDataIntervalTimetable, DeltaDataIntervalTimetable

    if monitor.schedule is not None and monitor.window is None:
        return CronDataIntervalTimetable(monitor.schedule, timezone="UTC")
    length = monitor.window_length or timedelta(days=1)
    cron = _cron_for(length)
    if cron is not None:
        return CronDataIntervalTimetable(cron, timezone="UTC")
    return DeltaDataIntervalTimetable(length)


def _window(context: Any) -> tuple[datetime, datetime]:
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is not None and end is not None and start < end:
        return start.astimezone(UTC), end.astimezone(UTC)
    params = context.get("params") or {}
    if params.get("window_start") and params.get("window_end"):
        return (
            datetime.fromisoformat(params["window_start"]).astimezone(UTC),
            datetime.fromisoformat(params["window_end"]).astimezone(UTC),
        )
    raise ConfigError(
        "this run has no data interval (a manual or asset-triggered run): trigger it with a "
        "logical date, or give params window_start and window_end (ISO-8601)"
    )


def build_monitor_dag(monitor: MonitorConfig, *, fileloc: str | None = None) -> Any:
    """The Airflow DAG of one monitor.

    Parameters
    ----------
    monitor : MonitorConfig
        The monitor definition.
    fileloc : str, optional
        The YAML file it came from, shown in the DAG's docs.

    Returns
    -------
    airflow.sdk.DAG
    """
    from airflow.sdk import DAG, Asset, Param, get_current_context, task
    from airflow.sdk.exceptions import AirflowSkipException

    from drift.airflow.connections import engine_for, results_url
    from drift.airflow.local_alerts import log_alerts
    from drift.alerts import dispatch_alerts
    from drift.pipeline import measure_window, prepare_baseline
    from drift.store import ResultsStore, upgrade

    asset = Asset(asset_uri(monitor.name))
    doc = f"Drift monitor `{monitor.name}` from `{fileloc or 'YAML'}`.\n\n{monitor.description}"

    def _store() -> ResultsStore:
        return ResultsStore(results_url())

    with DAG(
        dag_id=dag_id(monitor.name),
        schedule=timetable(monitor),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=4,
        tags=["drift"],
        doc_md=doc,
        params={
            "window_start": Param(None, type=["null", "string"], description="manual runs"),
            "window_end": Param(None, type=["null", "string"], description="manual runs"),
        },
        default_args={"retries": RETRIES, "retry_delay": RETRY_DELAY},
    ) as dag:

        @task(task_id="baseline")
        def baseline() -> dict[str, Any]:
            start, end = _window(get_current_context())
            url = results_url()
            upgrade(url)
            store = ResultsStore(url)
            try:
                return prepare_baseline(monitor, start, end, store=store, engine_factory=engine_for)
            finally:
                store.close()

        @task(task_id="measure")
        def measure(_baseline: dict[str, Any]) -> dict[str, Any]:
            context = get_current_context()
            start, end = _window(context)
            store = _store()
            try:
                result = measure_window(
                    monitor, start, end, store=store, engine_factory=engine_for,
                    airflow_run_id=str(context.get("run_id")),
                )  # fmt: skip
            finally:
                store.close()
            return result.summary()

        @task(task_id="alert")
        def alert(summary: dict[str, Any]) -> dict[str, Any]:
            log_alerts(summary)
            store = _store()
            try:
                return dispatch_alerts(monitor, summary, store=store)
            finally:
                store.close()

        @task(task_id="publish_drift", outlets=[asset])
        def publish_drift(summary: dict[str, Any]) -> None:
            if not summary["drifted"]:
                raise AirflowSkipException(f"no drift in [{summary['window_start']}, ...)")
            context = get_current_context()
            context["outlet_events"][asset].extra = {
                "monitor": summary["monitor"],
                "window_start": summary["window_start"],
                "window_end": summary["window_end"],
                "drifted": summary["drifted"],
                "max_severity": summary["max_severity"],
                "run_id": summary["run_id"],
            }

        # TaskFlow calls return XComArgs that Airflow resolves at run time.
        summary = measure(baseline())  # type: ignore[arg-type]
        alert(summary)  # type: ignore[arg-type]
        publish_drift(summary)  # type: ignore[arg-type]
    return dag


def _broken_dag(path: Path, problem: ConfigError) -> Any:
    """A stand-in DAG for a monitor file that does not validate: it fails, saying why."""
    from airflow.sdk import DAG, task

    message = str(problem)

    with DAG(
        dag_id=dag_id(path.stem) + "__invalid",
        schedule=None,
        start_date=START_DATE,
        tags=["drift", "invalid-config"],
        description=f"INVALID monitor file: {message}"[:1000],
        doc_md=f"### Invalid monitor file `{path}`\n\n```\n{message}\n```",
    ) as dag:

        @task(task_id="invalid_config", retries=0)
        def invalid_config() -> None:
            raise ConfigError(message)

        invalid_config()
    return dag


def build_dags(directory: str | Path, *, only: str | None = None) -> dict[str, Any]:
    """One DAG per monitor file (``*.yaml``/``*.yml``) in ``directory``.

    A file that does not validate does not break the others: it is logged as
    an error and becomes a DAG ``drift_<file stem>__invalid`` whose
    description, docs and single failing task carry the error (file, key
    path, what was expected), so the problem shows in the UI next to the
    monitors that work.

    Parameters
    ----------
    directory : str or pathlib.Path
        The monitors folder, e.g. ``dags/monitors``.
    only : str, optional
        Build just this DAG id (Airflow's parsing context when a task runs).
    """
    folder = Path(directory)
    dags: dict[str, Any] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            monitor = load_monitor(path)
        except ConfigError as problem:
            log.error("%s", problem)
            broken = _broken_dag(path, problem)
            if only is None or only == broken.dag_id:
                dags[broken.dag_id] = broken
            continue
        wanted = dag_id(monitor.name)
        if only is not None and only != wanted:
            continue
        if wanted in dags:
            log.error("%s: monitor name %r is used by another file", path, monitor.name)
            continue
        dags[wanted] = build_monitor_dag(monitor, fileloc=str(path))
    return dags
