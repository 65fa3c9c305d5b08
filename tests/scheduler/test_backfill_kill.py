"""Issue 20: ``drift backfill`` killed -9 in the middle of a chunk, then run again.

The 48 hourly windows of the scheduler tests' monitor are one chunk: one
grouped query counts them all (``windows_per_query``), then the windows are
stored one by one, each in its own transaction. The CLI process is killed
twice, from outside: while the chunk's query runs (seen in
``pg_stat_activity`` of the source), and inside the write of a window in the
middle of the chunk (held there by the ``score`` gate of :mod:`gates`, the
windows before it stored). Running the same command again must leave exactly
the rows of one clean ``drift backfill`` into another database.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import gates
import pytest
import sqlalchemy as sa
from compare import differences, integrity, snapshot
from deployment import clean_environment, postgres_databases
from procs import kill9, local_ports
from scenario import HOUR, LIVE_END, LIVE_START, SOURCE_URL_ENV, WINDOWS, make_source, write_monitor

from drift.sources.windowed import windows_per_query

pytestmark = pytest.mark.slow

DRIFT = Path(sys.executable).parent / "drift"
NAME = "sched_cli"


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    with postgres_databases("source", "results", "control") as made:
        make_source(made["source"])
        yield made


def _backfill(monitor: Path, url: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``drift backfill`` of the 48 windows into ``url``; its output in ``<monitor>.log``."""
    with monitor.with_suffix(".log").open("ab") as log:
        return subprocess.Popen(
            [str(DRIFT), "backfill", str(monitor), "--start", LIVE_START.isoformat(),
             "--end", LIVE_END.isoformat(), "--url", url],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _output(monitor: Path) -> str:
    return monitor.with_suffix(".log").read_text(errors="replace")[-3000:]


def _runs(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.text("SELECT count(*) FROM drift_run")) or 0)


def _wait(what: str, until: object, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if until():  # type: ignore[operator]
            return
        if process.poll() is not None:
            raise AssertionError(f"drift backfill ended (exit {process.returncode}) before {what}")
        time.sleep(0.02)
    raise AssertionError(f"no {what} within {timeout} s")


def test_drift_backfill_killed_mid_chunk_then_rerun_equals_one_clean_backfill(
    urls: dict[str, str], tmp_path: Path
) -> None:
    # Every window of the range is counted by one grouped query: the whole range is one chunk.
    assert windows_per_query(64, case_tree=True) >= WINDOWS
    monitor = write_monitor(tmp_path, NAME, "json://127.0.0.1:9/hook")
    env = {**clean_environment(), SOURCE_URL_ENV: urls["source"]}
    for url in (urls["control"], urls["results"]):
        subprocess.run(
            [str(DRIFT), "db", "upgrade", "--url", url], env=env, check=True, capture_output=True
        )
    clean = _backfill(monitor, urls["control"], env)
    assert clean.wait(timeout=300) == 0, _output(monitor)

    gates.install(urls["results"])
    middle = random.Random(20).randrange(12, 36)
    results = sa.create_engine(urls["results"], poolclass=sa.pool.NullPool)
    source = sa.create_engine(urls["source"], poolclass=sa.pool.NullPool)
    kills = []
    try:
        # Kill 1: while the chunk's grouped query reads the source.
        first = _backfill(monitor, urls["results"], env)

        def reading() -> bool:
            with source.connect() as conn:
                active = {
                    int(p)
                    for (p,) in conn.execute(
                        sa.text(
                            "SELECT client_port FROM pg_stat_activity WHERE state = 'active' "
                            "AND datname = current_database() AND query ILIKE '%generate_series%'"
                        )
                    )
                    if p
                }
            return bool(local_ports(first.pid, 5432) & active)

        _wait("grouped source query", reading, first)
        assert kill9(first.pid)
        assert first.wait(timeout=30) == -9
        kills.append(("chunk query", _runs(results)))
        assert _runs(results) == 0

        # Kill 2: inside the write of window `middle`, the windows before it stored.
        gates.arm_score(results, LIVE_START + middle * HOUR)
        second = _backfill(monitor, urls["results"], env)
        _wait("held score write", lambda: bool(gates.held(results)), second)
        assert _runs(results) == middle  # the held window's run row is not committed
        assert kill9(second.pid)
        assert second.wait(timeout=30) == -9
        gates.disarm(results)
        kills.append(("window write", _runs(results)))
        assert _runs(results) == middle
        assert set(integrity(urls["results"]).values()) == {0}

        again = _backfill(monitor, urls["results"], env)
        assert again.wait(timeout=300) == 0, _output(monitor)
    finally:
        results.dispose()
        source.dispose()
    assert differences(snapshot(urls["results"], NAME), snapshot(urls["control"], NAME)) == {}
    assert set(integrity(urls["results"]).values()) == {0}
    print(f"drift backfill kills (where, windows stored then): {kills}; retry ok", file=sys.stderr)
