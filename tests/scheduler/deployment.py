"""A real Airflow 3.3 deployment started by the tests: api-server, dag-processor, schedulers.

Everything runs as separate processes with the LocalExecutor, as in the
production compose file: the scheduler's LocalExecutor workers supervise the
task processes, which reach Airflow only through the api-server's execution
API (``[core] execution_api_server_url``); Airflow's metadata lives in its
own PostgreSQL database, created here and dropped at the end. This process
never imports Airflow: it drives the ``airflow`` command and reads the
metadata database with SQL.

Retries: the monitor DAGs retry each task ``drift.airflow.dags.RETRIES``
times after ``RETRY_DELAY`` (two minutes). The deployment shortens the delay
the way an Airflow administrator would, with a cluster policy
(``$AIRFLOW_HOME/config/airflow_local_settings.py``, :data:`LOCAL_SETTINGS`),
so a killed task is retried within seconds.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
POSTGRES_URL = os.environ.get(
    "DRIFT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

#: Seconds between a task's failure and its retry, set by the cluster policy below.
RETRY_DELAY_SECONDS = 2
LOCAL_SETTINGS = f'''"""Local settings of the test deployment (imported by every Airflow process).

- A cluster policy: retry soon (the monitor DAGs wait two minutes).
- In the scheduler only, the pipeline's modules and Apprise's plugin registry
  are loaded once: its LocalExecutor workers and the task processes they fork
  inherit them, instead of importing them again in every task (measured
  about 1 s and 1.6 s of CPU, on 2 shared cores). Each task still parses its
  DAG file.
"""

import sys
from datetime import timedelta

if sys.argv[1:2] == ["scheduler"]:
    import apprise

    import drift.alerts
    import drift.run
    import drift.sources
    import drift.store

    apprise.Apprise().add("json://127.0.0.1:9/warm-up")


def task_policy(task):
    if task.dag_id.startswith("drift_"):
        task.retry_delay = timedelta(seconds={RETRY_DELAY_SECONDS})
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(name: str, driver: str = "postgresql+psycopg") -> str:
    url = sa.make_url(POSTGRES_URL).set(drivername=driver, database=name)
    return url.render_as_string(hide_password=False)


@contextmanager
def postgres_databases(*roles: str) -> Iterator[dict[str, str]]:
    """Fresh PostgreSQL databases ``drift_sched_<role>_<random>``; their URLs by role.

    Dropped at the end, with any connection still open to them.
    """
    suffix = uuid.uuid4().hex[:10]
    names = {role: f"drift_sched_{role}_{suffix}" for role in roles}
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield {role: database_url(name) for role, name in names.items()}
    finally:
        for name in names.values():  # each one, even when dropping another failed
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except sa.exc.SQLAlchemyError as exc:
                print(f"could not drop {name}: {exc}", file=sys.stderr)
        admin.dispose()


def clean_environment() -> dict[str, str]:
    """This process's environment without any Airflow or drift setting of the session."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DRIFT_"))}


@dataclass
class Component:
    """One running Airflow component: its process (a session leader) and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    handle: IO[bytes] = field(repr=False)

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill_hard(self) -> None:
        """``kill -9`` of the component and everything it forked, as when its container dies.

        The whole process group: a scheduler's LocalExecutor workers are forks
        that hold the scheduler's open metadata-database connection. Killing
        the scheduler's pid alone leaves them alive, keeping its transaction
        (and its row lock on ``slot_pool``) open, so a restarted scheduler never
        queues a task again (seen with Airflow 3.3.2).
        """
        os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the component and everything it started (its whole process group)."""
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
                # Orphaned workers of an earlier kill -9 share the group: take them too.
                os.killpg(self.pid, signal.SIGKILL)
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                pass
            break
        self.handle.close()


class Deployment:
    """Airflow home, configuration, metadata database and components of one test.

    Parameters
    ----------
    home : pathlib.Path
        A new, empty folder: AIRFLOW_HOME (logs, cluster policy, config cache).
    metadata_url : str
        An empty PostgreSQL database for Airflow's metadata.
    extra_env : mapping
        More variables for every component (connections, the monitors folder, ...).
    """

    def __init__(self, home: Path, metadata_url: str, extra_env: Mapping[str, str]) -> None:
        self.home = home
        self.metadata_url = metadata_url
        self.port = free_port()
        (home / "config").mkdir(parents=True, exist_ok=True)
        (home / "config" / "airflow_local_settings.py").write_text(LOCAL_SETTINGS)
        self.env = clean_environment()
        self.env.update(
            {
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "8",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
                # psycopg 3 is async-capable too (as in docker-compose.yml); else asyncpg.
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata_url,
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.port}",
                "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                # Notice a killed scheduler within seconds (defaults: 30 s and 5 min).
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "15",
                "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "3",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
                "DRIFT_CONFIG_CACHE_DIR": str(home / "drift-config-cache"),
                **extra_env,
            }
        )
        self.components: list[Component] = []
        self.meta = sa.create_engine(metadata_url, poolclass=sa.pool.NullPool)

    # -- the airflow command --------------------------------------------------------------

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run ``airflow ARGS`` to completion; raise with its output when it fails."""
        done = subprocess.run(
            [str(BIN / "airflow"), *args],
            env=self.env, capture_output=True, text=True, timeout=timeout, cwd=self.home,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    def start(self, name: str, *args: str) -> Component:
        """Start ``airflow ARGS`` in its own session, logging to ``<home>/<name>.log``."""
        log = self.home / f"{name}.log"
        handle = log.open("ab")
        process = subprocess.Popen(
            [str(BIN / "airflow"), *args],
            env=self.env, stdout=handle, stderr=subprocess.STDOUT, cwd=self.home,
            start_new_session=True,
        )  # fmt: skip
        component = Component(name, process, log, handle)
        self.components.append(component)
        return component

    def start_api_server(self) -> Component:
        api = self.start("api-server", "api-server")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if not api.alive():
                raise RuntimeError(f"the api-server exited:\n{api.log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return api
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("the api-server did not listen within 120 s")

    def stop_all(self) -> None:
        """Stop every component started here, each even when stopping another failed."""
        errors = []
        for component in reversed(self.components):
            try:
                component.stop()
            except Exception as exc:  # the others must still be stopped
                errors.append(exc)
        self.components.clear()
        self.meta.dispose()
        if errors:
            raise errors[0]

    # -- the metadata database ------------------------------------------------------------

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.meta.connect() as conn:
            return list(conn.execute(sa.text(sql), params).all())

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        """Wait until the dag-processor has serialized ``dag_id`` (it stays paused)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.rows("SELECT 1 FROM serialized_dag WHERE dag_id = :d", d=dag_id):
                return
            time.sleep(0.5)
        raise RuntimeError(f"{dag_id} was not parsed within {timeout} s:\n{self.logs_tail()}")

    def logs_tail(self, chars: int = 4000) -> str:
        return "\n".join(
            f"--- {c.name} ---\n{c.log.read_text(errors='replace')[-chars:]}"
            for c in self.components
        )
