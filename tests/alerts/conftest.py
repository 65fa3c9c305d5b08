"""Fixtures of the alert tests: a real HTTP receiver.

The helpers live in ``alert_support.py``, importable by the modules of this
folder (pytest's importlib mode puts no test folder on ``sys.path``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alert_support import free_port


@pytest.fixture
def receiver() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=free_port())
    server.expect_request("/hook", method="POST").respond_with_data("ok")
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()
