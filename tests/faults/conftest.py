"""Fixtures of the fault tests: PostgreSQL schemas, an HTTP receiver, shared helpers.

The helpers live in ``fault_support.py``, importable by the modules of this
folder (pytest's importlib mode puts no test folder on ``sys.path``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_support import postgres_schema


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (selected by ``search_path``), dropped afterwards."""
    yield from postgres_schema()


@pytest.fixture
def pg_url_control() -> Iterator[str]:
    """A second PostgreSQL schema, for a control store next to the disturbed one."""
    yield from postgres_schema()
