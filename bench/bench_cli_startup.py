"""Benchmark: how long the ``drift`` command takes to start (issue 15).

Wall time of a fresh process, best and median of ``--repeat`` runs, for:

- ``python -c pass``: the interpreter's floor;
- ``drift --help`` and ``drift run --help``: argument parsing only;
- ``drift validate MONITOR``: parse and validate one monitor file (a
  ``url_env:`` source, as a real monitor file has);
- ``imports of drift run``: the modules ``drift run`` imports before it
  reads anything (issue 18; ``drift.store`` imports Alembic, ~0.27 s, for
  its schema check);
- the same with ``--baseline-src DIR``: another source tree (e.g.
  ``git worktree add /tmp/before <commit>``) run with the same interpreter
  in the same run, to compare with before.

Each command runs as ``python -m drift.cli ...`` with ``PYTHONPATH`` set to
the tree under test, from a temporary working directory; nothing is
imported in this process.

Usage: ``.venv/bin/python bench/bench_cli_startup.py [--repeat 15] [--baseline-src DIR]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MONITOR = """\
name: bench
source: {url_env: BENCH_SOURCE_URL}
table: events
timestamp: created_at
window: 1d
features: [{name: amount, kind: numeric}, {name: country, kind: categorical}]
"""


def _times(argv: list[str], src: Path, cwd: str, repeat: int) -> list[float]:
    # Outside any tree: ``-m`` puts the working directory first on sys.path.
    env = {**os.environ, "PYTHONPATH": str(src)}
    run = {"env": env, "cwd": cwd, "capture_output": True, "check": True}
    subprocess.run(argv, **run)  # type: ignore[call-overload]  # warm the file cache
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, **run)  # type: ignore[call-overload]
        out.append(time.perf_counter() - started)
    return out


def main() -> int:
    """Print a Markdown table of start-up times (ms)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs per command (default 15)")
    parser.add_argument("--baseline-src", type=Path, help="another source tree to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        monitor = Path(tmp) / "bench.yaml"
        monitor.write_text(MONITOR)
        drift = [sys.executable, "-m", "drift.cli"]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "drift --help": [*drift, "--help"],
            "drift run --help": [*drift, "run", "--help"],
            "drift validate MONITOR": [*drift, "validate", str(monitor)],
            # What `drift run` imports before it touches a database (issue 18).
            "imports of drift run": [
                sys.executable,
                "-c",
                "import drift.cli.main, drift.run, drift.store, drift.config",
            ],
        }
        trees = {"now": ROOT}
        if args.baseline_src is not None:
            trees["before"] = args.baseline_src.resolve()
        print("| command | tree | best ms | median ms |")
        print("|---|---|---:|---:|")
        for label, argv in commands.items():
            for tree, src in trees.items():
                if label.startswith("python") and tree != "now":
                    continue
                runs = _times(argv, src, tmp, args.repeat)
                print(
                    f"| `{label}` | {tree} | {min(runs) * 1000:.0f} | "
                    f"{statistics.median(runs) * 1000:.0f} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
