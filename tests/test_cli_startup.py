"""`drift --help` and `drift validate` start without the heavy libraries.

Startup time is what a user feels on every command; it is measured by
bench/bench_cli_startup.py. Here the cause is pinned down instead: which
modules the command imports (``python -X importtime``), in a fresh process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

#: Too slow to import for a command that needs none of them (each costs 0.1-0.6 s).
HEAVY = {"sqlalchemy", "alembic", "pandas", "pydantic", "numpy", "uvicorn", "fastapi", "airflow"}

MONITOR = """\
name: startup
source: {url_env: SOME_SOURCE_URL}
table: events
timestamp: created_at
features: [{name: amount}]
"""


def _imported(*args: str, cwd: Path) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The top-level packages ``drift ARGS`` imports, and the finished process."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "drift.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    modules = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return modules, done


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    modules, done = _imported("--help", cwd=tmp_path)
    assert done.returncode == 0 and "validate" in done.stdout
    assert "drift" in modules  # the parse worked
    assert not modules & HEAVY, sorted(modules & HEAVY)


def test_subcommand_help_imports_nothing_heavy(tmp_path: Path) -> None:
    modules, done = _imported("run", "--help", cwd=tmp_path)
    assert done.returncode == 0 and "--window-end" in done.stdout
    assert not modules & HEAVY, sorted(modules & HEAVY)


def test_validate_imports_pydantic_but_no_database_or_dataframe_library(tmp_path: Path) -> None:
    monitor = tmp_path / "startup.yaml"
    monitor.write_text(MONITOR)
    modules, done = _imported("validate", str(monitor), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ok (startup)" in done.stdout
    assert "pydantic" in modules and "yaml" in modules
    allowed_here = {"pydantic", "numpy"}  # the monitor model, and drift.stats' metric names
    assert not modules & (HEAVY - allowed_here), sorted(modules & (HEAVY - allowed_here))
