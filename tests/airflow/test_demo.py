"""``make demo`` as a user sees it: ``python -m drift.airflow.demo``, run twice, in real Airflow.

The demo runs in its own process (as ``make demo`` does) with its folder in
``$DRIFT_DEMO_DIR``; what is checked is what it prints and what a second run
leaves of the first: no interleaved log lines, a header over the table, the
alerts counted as opened once and then updated, and the same run ids (the
dashboard links of the first run) after the second.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SHIFT = "2024-05-19"


def _demo(folder: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "drift.airflow.demo"],
        env={**os.environ, "DRIFT_DEMO_DIR": str(folder)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def _run_ids(folder: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(folder / "drift.db") as conn:
        return conn.execute(
            "SELECT window_start, id FROM drift_run ORDER BY window_start"
        ).fetchall()


def _told(output: str) -> None:
    lines = output.splitlines()
    assert not [line for line in lines if "[warning" in line or "drift CRITICAL" in line]
    assert "(window: drift found)" not in output
    header = next(line for line in lines if line.split()[:1] == ["window"])
    assert header.split() == [
        "window",
        "airflow",
        "run",
        "features",
        "at",
        "warn",
        "or",
        "critical",
        "alerts",
    ]
    rows = {line.split()[0]: line for line in lines if line.startswith("  2024-05-")}
    assert len(rows) == 14
    assert rows[SHIFT].endswith("opened amount, country, prompt")
    after = [day for day in rows if day > SHIFT]
    assert all(rows[day].endswith("updated amount, country, prompt") for day in after)
    assert all(rows[day].endswith("-") for day in rows if day < SHIFT)
    assert "Alerts: 3 opened, then updated by 9 later window(s); open now: 3" in output


@pytest.mark.slow
def test_demo_tells_what_happened_and_a_second_run_keeps_the_first_runs_links(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "demo"
    first = _demo(folder)
    _told(first)
    assert "drift.db created" in first
    ids = _run_ids(folder)
    assert len(ids) == 14

    second = _demo(folder)
    _told(second)
    assert "drift.db kept" in second
    assert _run_ids(folder) == ids  # /runs/<id> of the first run still opens the same window
