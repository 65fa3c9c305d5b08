"""Benchmark: one ``drift run`` against the pushdown query alone (issue 18).

In a fresh PostgreSQL schema (``$DRIFT_BENCH_POSTGRES_URL``, default the
local ``test`` database; dropped at the end) a table of 200k rows for the
measured day plus a 7-day reference of 50k rows a day is generated with
``generate_series``; the results tables live in the same schema. The
baseline is fitted by a first run of an earlier day, so the timed runs find
it stored. Then, side by side in one run:

- ``drift run`` of that one day as a subprocess (the real CLI: start-up,
  config, baseline read, the pushdown query, scores, the run's write,
  alerts), best and median of ``--repeat``;
- the pushdown query alone: the very statements the source issued for the
  window (captured with a SQLAlchemy ``before_cursor_execute`` listener),
  run again through SQLAlchemy, best and median;
- ``python -c pass`` and ``drift --help``, the start-up floors.

Goal: ``drift run`` at most the query + 1.5 s.
Usage: ``.venv/bin/python bench/bench_run_overhead.py [--rows 200000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

URL = os.environ.get(
    "DRIFT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SCHEMA = f"drift_bench_overhead_{os.getpid()}"
DAY = datetime(2024, 6, 8, tzinfo=UTC)
MONITOR = f"""\
name: overhead
source: {{url_env: BENCH_SOURCE_URL}}
schema: {SCHEMA}
table: events
timestamp: created_at
window: 1d
reference: {{start: 2024-06-01, end: 2024-06-08}}
features:
  - {{name: amount, kind: numeric, bins: 20}}
  - {{name: latency, kind: numeric, bins: 10}}
  - {{name: country, kind: categorical, top_k: 20}}
  - {{name: device, kind: categorical}}
thresholds: {{warn: 0.05, critical: 0.2}}
"""


def generate(conn: sa.Connection, rows: int, reference_per_day: int) -> None:
    """The events table: ``rows`` on DAY, ``reference_per_day`` on each of the 7 days before."""
    conn.execute(sa.text(f'CREATE SCHEMA "{SCHEMA}"'))
    conn.execute(sa.text("SELECT setseed(0.18)"))
    select = (
        "SELECT {start}::timestamptz + (i * interval '1 day' / {n}) AS created_at, "
        "round((exp(random() * 5))::numeric, 2)::float AS amount, random() * 900 AS latency, "
        "(ARRAY['US','DE','FR','BR','IN','GB','JP','MX'])[1 + floor(random() * 8)::int] "
        "AS country, (ARRAY['ios','android','web'])[1 + floor(random() * 3)::int] AS device "
        "FROM generate_series(0, {n} - 1) AS i"
    )
    parts = [select.format(start=f"'{DAY.isoformat()}'", n=rows)]
    for d in range(1, 8):
        start = (DAY - timedelta(days=d)).isoformat()
        parts.append(select.format(start=f"'{start}'", n=reference_per_day))
    conn.execute(sa.text(f'CREATE TABLE "{SCHEMA}".events AS ' + " UNION ALL ".join(parts)))
    conn.execute(sa.text(f'CREATE INDEX events_created_at ON "{SCHEMA}".events (created_at)'))
    conn.execute(sa.text(f'ANALYZE "{SCHEMA}".events'))


def _window_statements(monitor_file: Path, results: str) -> list[tuple[str, Any]]:
    """The source statements that read DAY's window, as ``drift run`` issues them."""
    from sqlalchemy.engine import Engine

    from drift.config import load_monitor
    from drift.run import run_window
    from drift.store import ResultsStore

    seen: list[tuple[str, Any]] = []

    def listen(conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        on_source = "options" not in conn.engine.url.query  # the results URL has a search_path
        if on_source and "created_at" in statement and "WHERE" in statement:
            seen.append((statement, params))

    sa.event.listen(Engine, "before_cursor_execute", listen)
    store = ResultsStore(results)
    try:
        run_window(
            load_monitor(monitor_file), DAY, DAY + timedelta(days=1), store=store, notify=False
        )
    finally:
        sa.event.remove(Engine, "before_cursor_execute", listen)
        store.close()
    return seen


def _timed(run: Any, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        out.append(time.perf_counter() - started)
    return out


def main() -> int:
    """Print a Markdown table: drift run vs its pushdown query (seconds)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows in the measured window")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    admin = sa.create_engine(URL, isolation_level="AUTOCOMMIT")
    source = sa.make_url(URL).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
    results = source.render_as_string(hide_password=False)
    work = Path(tempfile.mkdtemp(prefix="drift-bench-overhead-"))
    try:
        with admin.connect() as conn:
            generate(conn, args.rows, 50_000)
        monitor_file = work / "overhead.yaml"
        monitor_file.write_text(MONITOR)
        env = {**os.environ, "BENCH_SOURCE_URL": URL, "DRIFT_RESULTS_URL": results}
        os.environ.update({"BENCH_SOURCE_URL": URL})
        drift = [sys.executable, "-m", "drift.cli"]

        def sh(argv: list[str]) -> subprocess.CompletedProcess[str]:
            return subprocess.run(argv, env=env, cwd=work, capture_output=True, text=True)

        sh([*drift, "db", "upgrade", "--url", results]).check_returncode()
        earlier = DAY.isoformat()  # the day before DAY: fits and stores the baseline
        sh([*drift, "run", str(monitor_file), "--window-end", earlier])
        end = (DAY + timedelta(days=1)).isoformat()
        argv = [*drift, "run", str(monitor_file), "--window-end", end]

        def cli() -> None:
            done = sh(argv)
            if done.returncode not in (0, 2):  # 2: drift found
                raise SystemExit(f"drift run failed ({done.returncode}):\n{done.stderr[-2000:]}")

        statements = _window_statements(monitor_file, results)
        engine = sa.create_engine(URL)

        def query() -> None:
            with engine.connect() as conn:
                for statement, params in statements:
                    conn.exec_driver_sql(statement, params).fetchall()

        query()  # warm the server's cache as the CLI's first run did
        rows = {
            "python -c pass": _timed(lambda: sh([sys.executable, "-c", "pass"]), args.repeat),
            "drift --help": _timed(lambda: sh([*drift, "--help"]), args.repeat),
            f"pushdown query alone ({len(statements)} statements)": _timed(query, args.repeat),
            "drift run (subprocess, baseline stored)": _timed(cli, args.repeat),
        }
        engine.dispose()
        print(f"{args.rows} rows in the window, PostgreSQL, {os.cpu_count()} cores\n")
        print("| what | best s | median s |")
        print("|---|---:|---:|")
        for label, times in rows.items():
            print(f"| {label} | {min(times):.3f} | {statistics.median(times):.3f} |")
        over = statistics.median(
            rows["drift run (subprocess, baseline stored)"]
        ) - statistics.median(rows[f"pushdown query alone ({len(statements)} statements)"])
        print(f"\ndrift run minus the query (medians): {over:.2f} s (goal <= 1.5 s)")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
