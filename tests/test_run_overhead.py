"""One window's run does its work once: counted in the SQL statements it issues."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from drift.config import load_monitor
from drift.run import run_window
from drift.sources.demo_data import DEMO_START, make_demo_source

MONITOR = Path(__file__).resolve().parents[1] / "dags" / "monitors" / "demo_events.yaml"
SHIFT = DEMO_START + timedelta(days=16)


class Statements:
    """Every SQL statement run in this process while listening, with its database."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, conn: sa.Connection, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append((conn.engine.url.database or "", " ".join(statement.split())))

    def on(self, database: str) -> list[str]:
        return [s for db, s in self.seen if db.endswith(database)]


@pytest.fixture
def statements() -> Iterator[Statements]:
    listener = Statements()
    sa.event.listen(Engine, "before_cursor_execute", listener)
    yield listener
    sa.event.remove(Engine, "before_cursor_execute", listener)


def samplings(sql: list[str]) -> int:
    """Statements that sample the source's columns (no WHERE, a LIMIT)."""
    return sum(s.startswith("SELECT events.id") and "LIMIT" in s for s in sql)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_a_run_with_a_stored_baseline_reads_each_thing_once(
    tmp_path: Path, store: Any, monkeypatch: pytest.MonkeyPatch, statements: Statements
) -> None:
    source = tmp_path / "source.db"
    make_demo_source(f"sqlite:///{source}", days=19, shift_day=16, rows_per_day=100)
    monkeypatch.setenv("DRIFT_DEMO_SOURCE_URL", f"sqlite:///{source}")
    monitor = load_monitor(MONITOR)
    run_window(monitor, SHIFT, SHIFT + timedelta(days=1), store=store, notify=False)
    statements.seen.clear()
    later = SHIFT + timedelta(days=1)
    run_window(monitor, later, later + timedelta(days=1), store=store, notify=False)
    on_source = statements.on("source.db")
    results = [s for db, s in statements.seen if not db.endswith("source.db")]
    assert samplings(on_source) == 1
    assert sum("sqlite_master" in s or "table_xinfo" in s for s in on_source) <= 4
    # The live window in one statement per feature kind, no reference read (it is stored).
    assert sum(" WHERE " in s and "created_at" in s for s in on_source) == 3
    assert sum("FROM drift_baseline" in s for s in results) == 1
    assert (
        sum(s.startswith(("INSERT INTO drift_monitor", "UPDATE drift_monitor")) for s in results)
        == 0
    )
    assert sum("FROM drift_monitor" in s for s in results) == 1
