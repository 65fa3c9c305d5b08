"""Dashboard fixtures: the app over the demo's results, served on loopback for a real browser."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The helpers of this folder (segment_data.py) import by name, as tests/alerts' do.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from segment_data import fill_segments

ROOT = Path(__file__).resolve().parents[2]
#: Where the browser tests leave their screenshots (printed at the end of the run).
ARTIFACTS = Path(os.environ.get("DRIFT_ARTIFACTS_DIR", ROOT / ".artifacts")) / "dashboard"
_shots: list[Path] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """An ASGI app served by uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the dashboard server did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium, for Playwright (skip, or fail in CI, when it is missing)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    problem = None
    if found is None:
        problem = "no `chromium` on PATH"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the `playwright` package is missing (pip install -e '.[dev]')"
    if problem is not None:
        message = (
            f"browser tests need a browser: {problem}. Install Debian's chromium "
            "(`sudo apt-get install chromium`); Playwright drives it through "
            "executable_path, nothing is downloaded."
        )
        if os.environ.get("DRIFT_REQUIRE_BROWSER"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    assert found is not None
    return found


def _screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot of ``page`` as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    _shots.append(path)
    return path


@pytest.fixture
def screenshot() -> Any:
    """``screenshot(page, name)``: a full-page PNG under the artifacts folder."""
    return _screenshot


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _shots:
        terminalreporter.write_line(
            f"dashboard screenshots ({len(_shots)}): {ARTIFACTS}", bold=True
        )


@pytest.fixture
def served() -> Iterator[type[Served]]:
    yield Served


@pytest.fixture(scope="session")
def segment_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """A SQLite results store filled by :func:`fill_segments`, and what it returned."""
    url = f"sqlite:///{tmp_path_factory.mktemp('segments') / 'drift.db'}"
    return url, fill_segments(url)
