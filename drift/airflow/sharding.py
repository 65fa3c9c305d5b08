"""Monitors spread over several thin DAG files, so a fleet parses in parallel.

Airflow parses one DAG file in one process and gives up on it after
``[core] dagbag_import_timeout`` (30 s by default); its dag-processor runs
``[dag_processor] parsing_processes`` files side by side (2 by default). One
file building 1,000 monitors is one long parse on one core. So the monitors
are split over ``dags/drift_monitors_shard_NN.py``: shard ``NN`` builds the
monitors whose name hashes to ``NN`` (CRC-32 of the name modulo the shard
count: stable across processes and Python versions, unlike ``hash()``), and
a DAG id, which Airflow requires to be unique across files, comes from
exactly one file.

Every shard reads the whole monitors folder, so the rules that need all of it
hold in each (files in name order; a name already taken leaves the later file
out), but validates only what changed since the last parse: the validated
files are cached by content (:mod:`drift.config.cache`). A task run
(``get_parsing_context().dag_id`` set) that belongs to another shard returns
at once, and in its own shard builds only its DAG.

The shard count is ``$DRIFT_DAG_SHARDS``, else ``[drift] dag_shards``
(default :data:`DEFAULT_SHARDS`). It can be lowered freely; raising it above
the number of shard files in the folder is an import error naming the
missing files, never monitors quietly lost.
"""

from __future__ import annotations

import os
import re
import zlib
from pathlib import Path
from typing import Any

from drift.airflow.dags import (
    build_monitor_dag,
    check_monitor_files,
    dag_id,
    monitor_scan,
    monitors_dir,
)
from drift.errors import ConfigError

__all__ = [
    "DEFAULT_SHARDS",
    "SHARDS_ENV",
    "build_shard",
    "check_fleet",
    "shard_count",
    "shard_file_name",
    "shard_of",
]

#: Shards when nothing says otherwise: 1,000 monitors make 125 a file, a few
#: seconds' parse each, and enough files to keep 2 to 8 parsing processes busy.
DEFAULT_SHARDS = 8
#: Environment variable that sets the number of shards (wins over ``[drift] dag_shards``).
SHARDS_ENV = "DRIFT_DAG_SHARDS"
_SHARD_FILE = re.compile(r"drift_monitors_shard_(\d+)\.py")


def shard_file_name(index: int) -> str:
    """The DAG file of shard ``index``: ``drift_monitors_shard_00.py`` for 0."""
    return f"drift_monitors_shard_{index:02d}.py"


def shard_of(monitor_name: str, shards: int) -> int:
    """The shard that builds the monitor ``monitor_name``.

    Parameters
    ----------
    monitor_name : str
        The monitor's ``name``.
    shards : int
        The number of shards, >= 1.

    Returns
    -------
    int
        CRC-32 of the UTF-8 name modulo ``shards``; the same in every process.

    Examples
    --------
    >>> shard_of("demo_events", 8)
    1
    >>> shard_of("demo_events", 1)
    0
    """
    if shards < 1:
        raise ValueError(f"`shards` must be >= 1, got {shards}")
    return zlib.crc32(monitor_name.encode("utf-8")) % shards


def shard_count() -> int:
    """The number of shards: ``$DRIFT_DAG_SHARDS``, else ``[drift] dag_shards``, else 8.

    Raises
    ------
    drift.errors.ConfigError
        If the setting is not a whole number >= 1.
    """
    raw = os.environ.get(SHARDS_ENV)
    where = SHARDS_ENV
    if raw is None or not raw.strip():
        from airflow.sdk.configuration import conf

        raw = conf.get("drift", "dag_shards", fallback=str(DEFAULT_SHARDS)) or ""
        where = "[drift] dag_shards"
    try:
        count = int(raw)
    except ValueError:
        count = 0
    if count < 1:
        raise ConfigError(f"{where}: must be a whole number >= 1, got {raw!r}")
    return count


def _index(dag_file: Path) -> int:
    match = _SHARD_FILE.fullmatch(dag_file.name)
    if match is None:
        raise ConfigError(
            f"{dag_file}: a shard DAG file must be named drift_monitors_shard_NN.py, "
            "NN its shard number"
        )
    return int(match.group(1))


def _check_files(folder: Path, shards: int) -> None:
    missing = [
        shard_file_name(i) for i in range(shards) if not (folder / shard_file_name(i)).is_file()
    ]
    if missing:
        raise ConfigError(
            f"{shards} DAG shards are configured but {folder} lacks {', '.join(missing)}: "
            "their monitors would not load; add the files (each a copy of "
            f"{shard_file_name(0)}) or lower {SHARDS_ENV} / [drift] dag_shards"
        )


def check_fleet(dag_file: str | Path) -> None:
    """Raise one error naming every invalid monitor file and missing shard file.

    For ``dags/drift_monitor_errors.py``, which defines no DAG, so that Airflow
    shows the problems as that file's import error while the valid monitors
    load from the shard files.

    Parameters
    ----------
    dag_file : str or pathlib.Path
        The errors DAG file (its ``__file__``), in the folder of the shard files.

    Raises
    ------
    drift.errors.ConfigError
        As :func:`~drift.airflow.dags.check_monitor_files`, or when the folder
        lacks some of the configured shard files.
    """
    path = Path(dag_file).resolve()
    _check_files(path.parent, shard_count())
    check_monitor_files(monitors_dir(path))


def build_shard(dag_file: str | Path, *, only: str | None = None) -> dict[str, Any]:
    """The DAGs of one shard file, for its ``globals()``.

    Parameters
    ----------
    dag_file : str or pathlib.Path
        The shard DAG file (its ``__file__``), named
        ``drift_monitors_shard_NN.py``; its monitors folder is
        :func:`~drift.airflow.dags.monitors_dir` of it.
    only : str, optional
        Build just this DAG id (``get_parsing_context().dag_id`` in a task).

    Returns
    -------
    dict
        DAG id to ``airflow.sdk.DAG`` for the valid monitors of this shard
        (empty for a shard number at or above the shard count).

    Raises
    ------
    drift.errors.ConfigError
        If the file is misnamed or the shard count is invalid (a folder that
        lacks shard files is :func:`check_fleet`'s import error instead, so
        this shard's monitors still load).
    """
    path = Path(dag_file).resolve()
    index, shards = _index(path), shard_count()
    prefix = dag_id("")
    if index >= shards or (
        only is not None
        and only.startswith(prefix)
        and shard_of(only[len(prefix) :], shards) != index
    ):
        return {}
    return {
        dag_id(monitor.name): build_monitor_dag(monitor, fileloc=str(file))
        for file, monitor in monitor_scan(monitors_dir(path)).monitors
        if shard_of(monitor.name, shards) == index
        and (only is None or only == dag_id(monitor.name))
    }
