"""ResultsStore.reading(): the reads inside one block share one connection."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from drift.errors import StoreError


def _checkouts(store: Any) -> list[int]:
    seen: list[int] = []
    sa.event.listen(store.engine, "checkout", lambda *_: seen.append(1))
    return seen


def test_reads_in_a_block_take_one_connection(store: Any) -> None:
    store.check_schema()  # once per store, on its own connection
    seen = _checkouts(store)
    store.monitors_overview()
    store.monitor_config("nothing")
    assert len(seen) == 2  # outside a block: a connection per read
    seen.clear()
    with store.reading():
        store.monitors_overview()
        store.monitor_config("nothing")
        with store.reading():  # nested: still the outer connection
            store.open_alerts()
    assert len(seen) == 1


def test_a_failed_read_in_a_block_still_names_the_store_and_frees_the_connection(
    store: Any,
) -> None:
    pool = store.engine.pool
    with (
        pytest.raises(StoreError, match="could not read from"),
        store.reading(),
    ):
        store._read(lambda conn: conn.execute(sa.text("SELECT * FROM no_such_table_here")))
    assert store._pinned.get() is None
    if hasattr(pool, "checkedout"):
        assert pool.checkedout() == 0
    assert store.monitors_overview() == []  # the store keeps working
