"""Source fixtures: a table of events with awkward values, on every backend."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

# The shared rows and helpers live in source_data.py, importable by the test
# modules of this folder (pytest's importlib mode puts no test folder on sys.path).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from source_data import Events, events_table, load, make_rows


@pytest.fixture
def events(db_url: str, backend: str) -> Iterator[Events]:
    engine = sa.create_engine(db_url)
    rows = make_rows(backend)
    load(engine, events_table("events"), rows)
    try:
        yield Events(engine, "events", rows, backend)
    finally:
        engine.dispose()
