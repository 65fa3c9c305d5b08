"""`drift db ...`: as real subprocesses on SQLite, and upgrade on every backend."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stored import open_alert

from drift.cli import main
from drift.store import ResultsStore, current, head
from drift.store.records import RunRecord

DRIFT = [sys.executable, "-m", "drift.cli"]


def _drift(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DRIFT_RESULTS_URL"}
    return subprocess.run(
        [*DRIFT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def _old_run(store: ResultsStore, days_ago: int) -> int:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago)
    return store.write_run(
        RunRecord("m", start, start + timedelta(hours=1), "ok", None, None, None, None, None)
    )


def test_db_commands_without_url_use_drift_db_in_the_working_directory(tmp_path: Path) -> None:
    done = _drift("db", "upgrade", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"sqlite:///drift.db is at revision {head()}" in done.stdout
    assert (tmp_path / "drift.db").is_file()


def test_prune_deletes_old_runs_but_not_those_an_open_alert_holds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert _drift("db", "upgrade", "--url", url, cwd=tmp_path).returncode == 0
    store = ResultsStore(url)
    held = _old_run(store, 200)
    _old_run(store, 120)
    kept = _old_run(store, 10)
    open_alert(store, "m", "x", held)
    done = _drift("db", "prune", "--older-than", "90d", "--url", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "deleted 1 run(s)" in done.stdout
    assert [r.id for r in store.runs("m")] == [held, kept]
    store.close()


def test_downgrade_then_current_then_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert _drift("db", "upgrade", "--url", url, cwd=tmp_path).returncode == 0
    assert "(up to date)" in _drift("db", "current", "--url", url, cwd=tmp_path).stdout
    down = _drift("db", "downgrade", "base", "--url", url, cwd=tmp_path)
    assert down.returncode == 0 and "at revision base" in down.stdout
    now = _drift("db", "current", "--url", url, cwd=tmp_path)
    assert f"base (no drift tables) (latest is {head()})" in now.stdout


def test_an_unknown_revision_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    done = _drift("db", "downgrade", "nosuch", "--url", url, cwd=tmp_path)
    assert done.returncode == 1
    assert "could not downgrade to nosuch the results database at sqlite:///" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://drift:s3cret-pw@127.0.0.1:9/results?connect_timeout=2"
    done = _drift("db", "current", "--url", url, cwd=tmp_path)
    assert done.returncode == 1
    assert "postgresql+psycopg://drift:***@127.0.0.1:9/results" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_prune_needs_a_duration(tmp_path: Path) -> None:
    done = _drift("db", "prune", "--older-than", "soon", cwd=tmp_path)
    assert done.returncode == 1 and "soon" in done.stderr


@pytest.mark.db
def test_upgrade_through_the_python_entry_on_every_backend(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade", "--url", db_url]) == 0
    assert current(db_url) == head()
    assert main(["db", "current", "--url", db_url]) == 0
    assert "(up to date)" in capsys.readouterr().out
