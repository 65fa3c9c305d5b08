"""Benchmark: parsing 1,000 monitors into DAGs, against Airflow's trivial-DAG floor (issue 18).

In one run, each DAG file is parsed by Airflow's own ``DagBag`` in a fresh
process (as the dag-processor does: it forks a process per file), and only
the ``DagBag`` load is timed (``import airflow`` is paid once by the
dag-processor, not per file). Rows:

- ``one file``: the old layout, one DAG file building every monitor with
  ``build_dags`` (no config cache);
- ``shard NN cold``: each shard file of ``dags/`` with an empty config cache
  (the first parse after a deploy: every monitor file validated);
- ``shard NN warm``: the same again, the cache filled (every later parse);
- ``floor shard NN``: the same number of DAGs of four chained EmptyOperators,
  sharded the same way, each file holding its monitors' DAG ids.

The monitors are ``bench/fleet.py``'s: varied windows, schedules, 3-12
features of every kind. Usage:
``.venv/bin/python bench/bench_fleet_dags.py [--monitors 1000] [--shards 8]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import write_fleet

ROOT = Path(__file__).resolve().parents[1]
PARSE = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "dags": len(bag.dag_ids), "errors": len(bag.import_errors)}))
"""
FLOOR = """from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

for name in {names!r}:
    with DAG(dag_id=f"drift_{{name}}", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
        a, b, c, d = (EmptyOperator(task_id=t) for t in ("baseline", "measure", "alert", "publish"))
        a >> b >> [c, d]
    globals()[dag.dag_id] = dag
"""
ONE_FILE = """from drift.airflow import build_dags, monitors_dir

globals().update(build_dags(monitors_dir(__file__)))
"""


def _parse(file: Path, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", PARSE, str(file)], env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(f"parsing {file} failed:\n{out.stderr[-2000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    if result["errors"]:
        raise SystemExit(f"{file}: {result['errors']} import error(s)")
    return result


def main() -> int:
    """Print a Markdown table of parse times per DAG file and in total."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--shards", type=int, default=8)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="drift-bench-fleet-"))
    try:
        dags = work / "dags"
        dags.mkdir()
        for name in [f"drift_monitors_shard_{i:02d}.py" for i in range(args.shards)]:
            shutil.copyfile(ROOT / "dags" / "drift_monitors_shard_00.py", dags / name)
        paths = write_fleet(dags / "monitors", args.monitors)
        names = [p.read_text().split("\n", 1)[0].removeprefix("name: ") for p in paths]
        floor = work / "floor"
        floor.mkdir()
        for i in range(args.shards):
            mine = [n for n in names if zlib.crc32(n.encode()) % args.shards == i]
            (floor / f"floor_{i:02d}.py").write_text(FLOOR.format(names=mine))
        single = work / "single"
        single.mkdir()
        (single / "drift_monitors.py").write_text(ONE_FILE)
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(work / "home"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
            "DRIFT_DAG_SHARDS": str(args.shards),
            "DRIFT_CONFIG_CACHE_DIR": str(work / "cache"),
        }
        uncached = {
            **env,
            "DRIFT_CONFIG_CACHE_DIR": "off",
            "DRIFT_MONITORS_PATH": str(dags / "monitors"),
        }
        one = _parse(single / "drift_monitors.py", uncached)
        cold = [_parse(dags / f"drift_monitors_shard_{i:02d}.py", env) for i in range(args.shards)]
        warm = [_parse(dags / f"drift_monitors_shard_{i:02d}.py", env) for i in range(args.shards)]
        base = [_parse(floor / f"floor_{i:02d}.py", env) for i in range(args.shards)]
        assert sum(r["dags"] for r in warm) == args.monitors == one["dags"]
        print(f"{args.monitors} monitors, {args.shards} shards, {os.cpu_count()} cores\n")
        print("| DAG file(s) | DAGs | max s/file | median s/file | total s | vs floor |")
        print("|---|---:|---:|---:|---:|---:|")
        floor_total = sum(r["seconds"] for r in base)
        for label, results in (
            ("one file, all monitors (before)", [one]),
            ("shards, cold cache", cold),
            ("shards, warm cache", warm),
            ("floor: 4 EmptyOperators, same shards", base),
        ):
            seconds = [r["seconds"] for r in results]
            total = sum(seconds)
            print(
                f"| {label} | {int(sum(r['dags'] for r in results))} | {max(seconds):.2f} | "
                f"{statistics.median(seconds):.2f} | {total:.2f} | {total / floor_total:.2f}x |"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
