"""``drift dashboard``: the standalone server, started as users start it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _drift(*args: str) -> list[str]:
    return [sys.executable, "-c", "from drift.cli import main; raise SystemExit(main())", *args]


@pytest.mark.slow
def test_drift_dashboard_serves_the_results_on_loopback(demo_results: str) -> None:
    port = _free_port()
    server = subprocess.Popen(
        _drift("dashboard", "--results-url", demo_results, "--port", str(port)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "the dashboard did not start"
            time.sleep(0.2)
        page = httpx.get(f"{base}/")
        assert page.status_code == 200 and "demo_events" in page.text
        assert httpx.get(f"{base}/api/monitors").json()[0]["open_alerts"] == 3
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in output
    assert "warning" not in output  # loopback needs no warning


def test_drift_dashboard_on_a_store_without_tables_says_how_to_fix_it(tmp_path: Path) -> None:
    done = subprocess.run(
        _drift("dashboard", "--results-url", f"sqlite:///{tmp_path / 'none.db'}"),
        capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 1
    assert "drift db upgrade" in done.stderr and "Traceback" not in done.stderr
