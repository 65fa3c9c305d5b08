"""One Airflow DAG per monitor YAML: baseline -> measure -> alert, and publish_drift.

The window of a run is its data interval, so catchup and ``airflow backfill
create`` cover history; re-running a window replaces its results, which is
what makes the tasks' retries safe. A manual run without a data interval
takes ``window_start``/``window_end`` from its params, or fails saying so.
When drift is found, the ``publish_drift`` task emits an event on the Asset
``drift://<monitor>`` with a summary in its ``extra``, so a retraining DAG
can be scheduled on drift; otherwise it is skipped and emits nothing.

Windows are measured in parallel (``max_active_runs``), but incidents follow
window time (:mod:`drift.alerts.dispatch`): a window's alert reads the stored
history of the windows before it, and a window older than the one that last
changed an alert changes nothing. So the ``alert`` task depends on the past:
it runs once the previous window's ``alert`` is done, and a catchup or
``airflow backfill create`` decides every incident as one run in window
order would (without it, a window whose measure finished early opened or
escalated incidents a window early or late). So that one window that cannot
be measured does not hold up the alerts of all later ones, ``alert`` runs
when ``measure`` is done whatever its outcome, and is skipped when it
failed (an error run changes no incident).

Invalid monitor files
---------------------
Airflow records import errors per Python file, and a DAG file that raises
loses every DAG it defined (the DagBag keeps nothing from a module whose
import failed). So one bad YAML must not raise in the file that builds the
monitors. Instead there are thin DAG files of two sorts:

- ``drift_monitors_shard_NN.py`` call :func:`drift.airflow.sharding.build_shard`,
  which builds the monitors of that shard that validate and leaves out (and
  logs) the ones that do not (:func:`build_dags` does the same for a whole
  folder in one file);
- ``drift_monitor_errors.py`` calls :func:`drift.airflow.sharding.check_fleet`,
  which defines no DAG and raises one :class:`~drift.errors.ConfigError`
  listing every invalid file with its key path (:func:`check_monitor_files`)
  and any missing shard file.

Airflow then shows the usual "DAG Import Errors" banner naming the YAML file
and key, while the good monitors keep loading and running.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drift.config import MonitorConfig, MonitorScan, scan_monitors
from drift.config.cache import MonitorCache, default_cache_dir
from drift.config.windows import aligned_cron, parse_window
from drift.errors import ConfigError

__all__ = [
    "MONITORS_PATH_ENV",
    "RETRIES",
    "RETRY_DELAY",
    "START_DATE",
    "asset_uri",
    "build_dags",
    "build_monitor_dag",
    "check_monitor_files",
    "dag_id",
    "monitor_scan",
    "monitors_dir",
    "timetable",
]

log = logging.getLogger(__name__)

#: Runs are scheduled from here on (with catchup off, only the latest window).
START_DATE = datetime(2024, 1, 1, tzinfo=UTC)
#: Retries of each task; safe because a window's results are replaced, never added.
RETRIES = 2
RETRY_DELAY = timedelta(minutes=2)
#: Environment variable that points the DAG files at another monitors folder.
MONITORS_PATH_ENV = "DRIFT_MONITORS_PATH"


def dag_id(name: str) -> str:
    """The DAG id of the monitor ``name``."""
    return f"drift_{name}"


def asset_uri(name: str) -> str:
    """The Asset that receives an event when the monitor ``name`` finds drift.

    The ``drift`` scheme is registered by this package's provider info, whose
    handler keeps the URI in exactly this form (no trailing slash).
    """
    return f"drift://{name}"


def monitors_dir(dag_file: str | Path) -> Path:
    """The monitors folder of a DAG file.

    Parameters
    ----------
    dag_file : str or pathlib.Path
        The DAG file (its ``__file__``).

    Returns
    -------
    pathlib.Path
        ``$DRIFT_MONITORS_PATH`` when set, else ``[drift] monitors_folder``
        (default ``monitors``) relative to the folder of ``dag_file`` (an
        absolute path is used as is). The dag-processor and the workers must
        see the same value.
    """
    from airflow.sdk.configuration import conf

    override = os.environ.get(MONITORS_PATH_ENV)
    if override:
        return Path(override)
    folder = conf.get("drift", "monitors_folder", fallback="monitors") or "monitors"
    return Path(dag_file).resolve().parent / str(folder)


def timetable(monitor: MonitorConfig) -> Any:
    """The monitor's timetable: data intervals that are exactly its windows.

    Parameters
    ----------
    monitor : MonitorConfig
        The monitor definition.

    Returns
    -------
    airflow.sdk timetable
        - only a cron ``schedule``: ``CronDataIntervalTimetable``, each
          interval running from one tick to the next;
        - a ``schedule`` and a ``window``: ``CronTriggerTimetable`` with that
          interval, each window ``[tick - window, tick)``;
        - only a ``window`` (default ``1d``) that divides a day (``15m``,
          ``1h``, ``6h``, ``1d``): the matching cron, aligned to UTC midnight
          like ``drift backfill``'s windows; any other length (``7d``)
          repeats from :data:`START_DATE`.

    Notes
    -----
    A bare cron string would not do: in Airflow 3 it is a trigger timetable
    whose data interval has zero length.
    """
    from airflow.sdk import (
        CronDataIntervalTimetable,
        CronTriggerTimetable,
        DeltaDataIntervalTimetable,
    )

    if monitor.schedule is not None:
        if monitor.window is None:
            return CronDataIntervalTimetable(monitor.schedule, timezone="UTC")
        return CronTriggerTimetable(monitor.schedule, timezone="UTC", interval=monitor.window)
    length = monitor.window_length or timedelta(days=1)
    cron = aligned_cron(length)
    if cron is not None:
        return CronDataIntervalTimetable(cron, timezone="UTC")
    return DeltaDataIntervalTimetable(length)


def _window(context: Any) -> tuple[datetime, datetime]:
    """The run's window: its data interval, else the params of a manual run."""
    from airflow.sdk.exceptions import AirflowFailException

    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is not None and end is not None and start < end:
        return start.astimezone(UTC), end.astimezone(UTC)
    params = context.get("params") or {}
    if params.get("window_start") and params.get("window_end"):
        try:
            return parse_window(params["window_start"], params["window_end"])
        except ValueError as exc:
            raise AirflowFailException(f"params: {exc}") from None
    # Not retried: a retry would find no window either.
    raise AirflowFailException(
        "this run has no data interval (a manual or asset-triggered run): trigger it with a "
        "logical date, or give params window_start and window_end (ISO-8601, e.g. "
        "2024-05-01T00:00:00+00:00)"
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
        ``drift_<name>``: ``baseline >> measure >> [alert, publish_drift]``,
        scheduled by :func:`timetable`, each task retried :data:`RETRIES`
        times, ``alert`` in window order (``depends_on_past``, see the
        module docstring); its description is the monitor's ``description``.
    """
    from airflow.sdk import DAG, Asset, Param, get_current_context, task
    from airflow.sdk.exceptions import AirflowSkipException

    from drift.airflow.connections import engine_for, open_results_store
    from drift.airflow.notifiers import senders
    from drift.alerts import dispatch_alerts
    from drift.alerts.local import log_alerts
    from drift.run import (
        Baseline,
        WindowSummary,
        measure_window,
        prepare_baseline,
        record_failed_window,
    )

    asset = Asset(name=asset_uri(monitor.name), uri=asset_uri(monitor.name))
    doc = f"Drift monitor `{monitor.name}` from `{fileloc or 'YAML'}`.\n\n{monitor.description}"

    with DAG(
        dag_id=dag_id(monitor.name),
        schedule=timetable(monitor),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=4,
        tags=["drift"],
        # The UI shows it under the DAG's name and in the DAG list; None when the
        # monitor has none (Airflow's default), rather than an empty string.
        description=monitor.description or None,
        doc_md=doc,
        params={
            "window_start": Param(None, type=["null", "string"], description="manual runs"),
            "window_end": Param(None, type=["null", "string"], description="manual runs"),
        },
        default_args={"retries": RETRIES, "retry_delay": RETRY_DELAY},
    ) as dag:

        @task(task_id="baseline")
        def baseline() -> dict[str, Any]:
            context = get_current_context()
            start, end = _window(context)
            with open_results_store(migrate=True) as store:
                try:
                    prepared = prepare_baseline(
                        monitor, start, end, store=store, engine_factory=engine_for
                    )
                except Exception as exc:
                    record_failed_window(
                        store, monitor, start, end, exc, airflow_run_id=str(context.get("run_id"))
                    )
                    raise
                return prepared.to_dict()

        @task(task_id="measure")
        def measure(prepared: dict[str, Any]) -> dict[str, Any]:
            # The baseline task's baseline, through XCom: neither the store's baseline
            # rows nor the source's columns are read again for it.
            context = get_current_context()
            start, end = _window(context)
            with open_results_store() as store:
                result = measure_window(
                    monitor, start, end, store=store, engine_factory=engine_for,
                    airflow_run_id=str(context.get("run_id")),
                    baseline=Baseline.from_dict(prepared),
                )  # fmt: skip
            return result.summary().to_dict()

        @task(task_id="alert", depends_on_past=True, trigger_rule="all_done")
        def alert(summary: dict[str, Any] | None) -> dict[str, Any]:
            # The task log (and $DRIFT_ALERT_DIR) always; the channels exactly once per
            # incident change, even when this task is retried (drift.alerts' outbox).
            if summary is None:  # measure failed for good: its error run changes no incident
                raise AirflowSkipException("the window was not measured; no incident to decide")
            window = WindowSummary.from_dict(summary)
            log_alerts(window)
            with open_results_store() as store:
                return dispatch_alerts(monitor, window, store=store, senders=senders)

        @task(task_id="publish_drift", outlets=[asset])
        def publish_drift(summary: dict[str, Any]) -> None:
            # A skipped task emits no Asset event; a successful one emits this extra.
            window = WindowSummary.from_dict(summary)
            if not window.drifted:
                raise AirflowSkipException(
                    f"no drift in [{window.window_start.isoformat()}, "
                    f"{window.window_end.isoformat()})"
                )
            get_current_context()["outlet_events"][asset].extra = {
                "monitor": window.monitor,
                "window_start": window.window_start.isoformat(),
                "window_end": window.window_end.isoformat(),
                "drifted": list(window.drifted),
                "max_severity": window.max_severity,
                "run_id": window.run_id,
            }

        # TaskFlow calls return XComArgs that Airflow resolves at run time.
        summary = measure(baseline())  # type: ignore[arg-type]
        alert(summary)  # type: ignore[arg-type]
        publish_drift(summary)  # type: ignore[arg-type]
    return dag


def monitor_scan(directory: str | Path) -> MonitorScan:
    """The folder's monitors, validating only new or changed files.

    A folder that does not exist (yet) holds none. Validated files are cached
    by content in :func:`drift.config.cache.default_cache_dir`
    (``$DRIFT_CONFIG_CACHE_DIR``; ``off`` validates every file every time).
    """
    if not Path(directory).is_dir():
        log.warning("monitors folder %s does not exist; no monitor DAGs", directory)
        return MonitorScan((), ())
    folder = default_cache_dir()
    return scan_monitors(directory, cache=None if folder is None else MonitorCache(folder))


def build_dags(directory: str | Path, *, only: str | None = None) -> dict[str, Any]:
    """One DAG per valid monitor file (``*.yaml``/``*.yml``) in ``directory``.

    A file that does not validate is logged and left out, so it never breaks
    the others; :func:`check_monitor_files` turns it into an import error.

    Parameters
    ----------
    directory : str or pathlib.Path
        The monitors folder, e.g. ``dags/monitors``.
    only : str, optional
        Build just this DAG id (``get_parsing_context().dag_id`` when a task
        runs, so a task parses one monitor, not all of them).

    Returns
    -------
    dict
        DAG id to ``airflow.sdk.DAG``, ready for a DAG file's ``globals()``.
    """
    scan = monitor_scan(directory)
    for problem in scan.problems:
        log.error("monitor left out: %s", problem)
    return {
        dag_id(monitor.name): build_monitor_dag(monitor, fileloc=str(path))
        for path, monitor in scan.monitors
        if only is None or only == dag_id(monitor.name)
    }


def check_monitor_files(directory: str | Path) -> None:
    """Raise one error naming every invalid monitor file in ``directory``.

    Meant for a DAG file of its own (``dags/drift_monitor_errors.py``), which
    Airflow then lists as an import error while the valid monitors load.

    Parameters
    ----------
    directory : str or pathlib.Path
        The monitors folder, e.g. ``dags/monitors``.

    Raises
    ------
    drift.errors.ConfigError
        One line per problem: ``<file>: <key path>: <what was expected>``.
    """
    problems = monitor_scan(directory).problems
    if problems:
        raise ConfigError(
            f"{len(problems)} invalid monitor file(s); their DAGs are not loaded:\n"
            + "\n".join(problems)
        )
