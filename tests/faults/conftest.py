"""Fixtures of the fault tests: PostgreSQL schemas, an HTTP receiver, shared helpers.

The helpers live in ``fault_support.py``, importable by the modules of this
folder (pytest's importlib mode puts no test folder on ``sys.path``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_support import free_port, postgres_schema


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (selected by ``search_path``), dropped afterwards."""
    yield from postgres_schema()


@pytest.fixture
def receiver() -> Iterator[HTTPServer]:
    """A real HTTP server taking Apprise ``json://`` posts on ``/hook``."""
    server = HTTPServer(host="127.0.0.1", port=free_port())
    server.expect_request("/hook", method="POST").respond_with_data("ok")
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def pg_url_control() -> Iterator[str]:
    """A second PostgreSQL schema, for a control store next to the disturbed one."""
    yield from postgres_schema()
