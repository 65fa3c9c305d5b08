"""The `drift` command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from drift.sources.demo_data import make_demo_source

DRIFT = [sys.executable, "-m", "drift.cli"]


def _drift(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DRIFT, *args], cwd=cwd, env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_results_url_comes_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    done = _drift("db", "upgrade", cwd=tmp_path, env={"DRIFT_RESULTS_URL": url})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "env.db").exists() and not (tmp_path / "drift.db").exists()


def test_backfill_prints_each_window_and_finds_the_shift(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'src.db'}"
    make_demo_source(source, days=10, shift_day=7, rows_per_day=300)
    monitor = tmp_path / "demo.yaml"
    monitor.write_text(
        "name: demo\n"
        "source: {url_env: DEMO_SOURCE}\n"
        "table: events\n"
        "timestamp: created_at\n"
        "reference: {start: 2024-05-01, end: 2024-05-05}\n"
        "features: [{name: amount}, {name: country}]\n"
    )
    results = f"sqlite:///{tmp_path / 'r.db'}"
    assert _drift("db", "upgrade", "--url", results, cwd=tmp_path).returncode == 0
    done = _drift(
        "backfill", str(monitor), "--start", "2024-05-05", "--end", "2024-05-11",
        "--url", results, cwd=tmp_path, env={"DEMO_SOURCE": source},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 7 and lines[-1] == "6 window(s), 0 failed"
    assert "drifted: -" in lines[0]
    assert "drifted: amount, country" in lines[3]


def test_a_bad_monitor_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsource: {url: 'sqlite://'}\ntable: t\ntimestamp: ts\nwindow: soon\n")
    done = _drift("validate", str(bad), cwd=tmp_path)
    assert done.returncode == 1
    assert "bad.yaml" in done.stderr and "window" in done.stderr


def _demo_monitor(tmp_path: Path) -> tuple[Path, str, dict[str, str]]:
    source = f"sqlite:///{tmp_path / 'src.db'}"
    make_demo_source(source, days=10, shift_day=7, rows_per_day=300)
    monitor = tmp_path / "demo.yaml"
    monitor.write_text(
        "name: demo\nsource: {url_env: DEMO_SOURCE}\ntable: events\ntimestamp: created_at\n"
        "reference: {start: 2024-05-01, end: 2024-05-05}\n"
        "features: [{name: amount}, {name: country}]\n"
    )
    results = f"sqlite:///{tmp_path / 'r.db'}"
    assert _drift("db", "upgrade", "--results-url", results, cwd=tmp_path).returncode == 0
    return monitor, results, {"DEMO_SOURCE": source}


def test_run_prints_json_and_fails_on_drift_when_asked(tmp_path: Path) -> None:
    monitor, results, env = _demo_monitor(tmp_path)
    done = _drift(
        "run", str(monitor), "--window-end", "2024-05-09", "--format", "json",
        "--fail-on-drift", "--results-url", results, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    summary = json.loads(done.stdout)
    assert summary["window_start"] == "2024-05-08T00:00:00+00:00"
    assert summary["status"] == "ok"
    assert sorted(summary["drifted"]) == ["amount", "country"]
    assert {f["feature"]: f["drifted"] for f in summary["features"]} == {
        "amount": True, "country": True,
    }  # fmt: skip


def test_run_prints_a_table_and_exits_zero_without_drift(tmp_path: Path) -> None:
    monitor, results, env = _demo_monitor(tmp_path)
    done = _drift(
        "run", str(monitor), "--window-start", "2024-05-05", "--window-end", "2024-05-06",
        "--fail-on-drift", "--results-url", results, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "kl_corrected" in done.stdout and "amount" in done.stdout and "country" in done.stdout


def test_a_window_that_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    monitor, results, env = _demo_monitor(tmp_path)
    done = _drift(
        "run", str(monitor), "--window-start", "2024-05-06", "--window-end", "2024-05-05",
        "--results-url", results, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 1
    assert "must be before" in done.stderr and "Traceback" not in done.stderr


def test_a_partial_failure_is_told_the_same_in_the_header_and_the_table(tmp_path: Path) -> None:
    monitor, results, env = _demo_monitor(tmp_path)
    text = monitor.read_text().replace(
        "{name: country}]", "{name: country}, {name: nosuch, kind: numeric}]"
    )
    monitor.write_text(text)
    done = _drift(
        "run", str(monitor), "--window-end", "2024-05-09", "--results-url", results,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    out = " ".join(done.stdout.split())  # rich wraps and pads the title
    # The header: an error, but of the features measured the worst is critical,
    # as the table (and the alerts opened from it) say; the caption names what failed.
    assert "error (partial) severity critical drifted: amount, country" in out
    assert "severity ok" not in out and "drifted: -" not in out
    assert "error: features not measured: nosuch: column not found" in out
    rows = [line for line in done.stdout.splitlines() if "│ amount" in line]
    assert len(rows) == 1 and "critical" in rows[0]

    failed = _drift(
        "run", str(monitor), "--window-end", "2024-05-09", "--fail-on-drift",
        "--results-url", results, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert failed.returncode == 2, failed.stderr


BAD_SOURCES = {
    "wrong role": "postgresql+psycopg://nobody:s3cret-pw@127.0.0.1:5432/test",
    "refused port": "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:1/test",
    "missing database": "mysql+pymysql://root:s3cret-pw@127.0.0.1:3306/no_such_database",
    "unknown host": "postgresql+psycopg://postgres:s3cret-pw@no-such-host.invalid:5432/test",
}


def _one_monitor(tmp_path: Path) -> tuple[Path, str]:
    results = f"sqlite:///{tmp_path / 'results.db'}"
    assert _drift("db", "upgrade", "--url", results, cwd=tmp_path).returncode == 0
    monitor = tmp_path / "m.yaml"
    monitor.write_text("name: m\nsource: {url_env: SRC}\ntable: events\ntimestamp: ts\n")
    return monitor, results


def test_a_source_that_cannot_be_reached_is_one_line_and_an_error_run(tmp_path: Path) -> None:
    from drift.store import ResultsStore

    monitor, results = _one_monitor(tmp_path)
    for what, url in BAD_SOURCES.items():
        done = _drift(
            "run", str(monitor), "--window-end", "2024-05-02", "--url", results,
            cwd=tmp_path, env={"SRC": url},
        )  # fmt: skip
        assert done.returncode == 1, (what, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, (what, done.stderr)
        assert lines[0].startswith("drift: error: cannot connect to the source "), what
        host = url.split("@")[1].split("/")[0]
        assert host in lines[0] and "s3cret-pw" not in lines[0], (what, lines[0])
    store = ResultsStore(results)
    (run,) = store.runs("m")  # one window, its failure replaced by each retry
    assert run.status == "error" and run.error is not None
    assert "cannot connect to the source" in run.error and "s3cret-pw" not in run.error
    store.close()


def test_debug_shows_the_traceback_of_an_error(tmp_path: Path) -> None:
    monitor, results = _one_monitor(tmp_path)
    done = _drift(
        "--debug", "run", str(monitor), "--window-end", "2024-05-02", "--url", results,
        cwd=tmp_path, env={"SRC": BAD_SOURCES["refused port"]},
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("drift: error: cannot connect")


def test_a_results_database_that_cannot_be_reached_is_one_line(tmp_path: Path) -> None:
    monitor, _ = _one_monitor(tmp_path)
    done = _drift(
        "run", str(monitor), "--window-end", "2024-05-02",
        "--url", "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:1/test",
        cwd=tmp_path, env={"SRC": f"sqlite:///{tmp_path / 'src.db'}"},
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "127.0.0.1:1" in lines[0] and "s3cret-pw" not in lines[0]


def test_a_backfill_whose_start_is_after_its_end_is_refused(tmp_path: Path) -> None:
    monitor, results = _one_monitor(tmp_path)
    done = _drift(
        "backfill", str(monitor), "--start", "2024-04-05", "--end", "2024-04-01",
        "--url", results, cwd=tmp_path, env={"SRC": f"sqlite:///{tmp_path / 'src.db'}"},
    )  # fmt: skip
    assert done.returncode == 1
    assert "the backfill range is empty: start 2024-04-05" in done.stderr
    assert "0 window(s)" not in done.stdout
