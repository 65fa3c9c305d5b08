"""Several processes migrating one empty results database at once all succeed.

Each Airflow ``baseline`` task migrates the results database before its first
write (``open_results_store(migrate=True)``), so the first windows of a fresh
deployment, run side by side (``max_active_runs``), upgrade an empty database
at the same moment. Seen under a real scheduler (tests/scheduler, issue 20):
all but one failed with ``duplicate key value violates unique constraint
"pg_type_typname_nsp_index"`` and were retried.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from drift.store import current, head

PROCESSES = 4
_CHILD = """
import sys, time
from pathlib import Path
from drift.store import upgrade
ready, go, url = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
ready.touch()
while not go.exists():
    time.sleep(0.005)
upgrade(url)
"""


@pytest.mark.db
@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)
def test_processes_upgrading_one_empty_database_at_once_all_succeed(
    db_url: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(tmp_path / f"ready{i}"), str(go), db_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("ready*"))) < PROCESSES and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()  # released together, after each has imported drift
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert [child.returncode for child in children] == [0] * PROCESSES, "\n".join(outputs)
    assert current(db_url) == head()
