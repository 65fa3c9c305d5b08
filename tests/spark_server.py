"""One Spark Thrift server per test session, started from the venv's pyspark.

See /work/shared/SPARK.md for the recipe. ``spark-submit`` execs java, so the
started process is the JVM; it runs in its own session (process group) and
is stopped by that group id at session end, and by ``atexit`` if the session
dies first.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

START_TIMEOUT = 120.0


@dataclass
class SparkServer:
    """A running Thrift server: its URL, work folder and JVM process."""

    url: str
    work: Path
    process: subprocess.Popen[bytes]

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url)

    def stop(self) -> None:
        if self.process.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        shutil.rmtree(self.work, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start() -> SparkServer:
    """Start the server and wait for its first ``SELECT 1``.

    Raises
    ------
    RuntimeError
        If pyspark is missing or the server does not answer in time (with its log tail).
    """
    import pyspark

    home = Path(pyspark.__file__).parent
    work = Path(tempfile.mkdtemp(prefix="drift-spark-"))
    tmp = work / "tmp"
    tmp.mkdir()
    port = _free_port()
    conf = {
        "spark.driver.extraJavaOptions": f"-XX:+UseSerialGC -Djava.io.tmpdir={tmp}",
        "spark.local.dir": str(tmp),
        "spark.sql.warehouse.dir": str(work / "warehouse"),
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
    }
    hive = {
        "hive.server2.thrift.bind.host": "127.0.0.1",
        "hive.server2.thrift.port": str(port),
        "hive.server2.authentication": "NOSASL",
        "hive.downloaded.resources.dir": str(tmp / "res"),
        "hive.exec.local.scratchdir": str(tmp / "scratch"),
        "hive.server2.logging.operation.log.location": str(tmp / "oplogs"),
    }
    argv = [str(home / "bin" / "spark-submit"), "--master", "local[2]", "--driver-memory", "1g"]
    for key, value in conf.items():
        argv += ["--conf", f"{key}={value}"]
    argv += [
        "--class",
        "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
        "spark-internal",
    ]
    for key, value in hive.items():
        argv += ["--hiveconf", f"{key}={value}"]
    log = (work / "server.log").open("wb")
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"}
    process = subprocess.Popen(
        argv, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = SparkServer(f"hive://127.0.0.1:{port}/default?auth=NOSASL", work, process)
    atexit.register(server.stop)
    deadline = time.monotonic() + START_TIMEOUT
    engine = server.engine()
    try:
        while True:
            if process.poll() is not None:
                break
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1")).scalar_one()
                return server
            except Exception:
                if time.monotonic() > deadline:
                    break
                time.sleep(1.0)
    finally:
        engine.dispose()
    tail = (work / "server.log").read_text(errors="replace")[-2000:]
    server.stop()
    raise RuntimeError(f"the Spark Thrift server did not start; its log ends:\n{tail}")


def load_parquet(engine: sa.Engine, table: str, folder: Path) -> None:
    """``CREATE TABLE table USING parquet LOCATION folder`` (replacing an older one)."""
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        conn.execute(sa.text(f"CREATE TABLE {table} USING parquet LOCATION '{folder}'"))
